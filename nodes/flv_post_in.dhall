--| `FlvPostIn`: SRS's `flv` stream caster: `POST /<app>/<stream>.flv` with an FLV body publishes
--  `app/stream` (vhost from the Host header); a busy stream gets 409. Shares the HTTP server of
--  its address with `HttpRemux` nodes.
--
--  srs.node "flv_post" (srs.Node.FlvPostIn srs.FlvPostIn::{ listen = "8936" })
{ Type = { listen : Text }, default = { listen = "8936" } }
