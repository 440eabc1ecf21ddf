--| `RtmpIn`: publishers over RTMP (ffmpeg, OBS) become streams `vhost/app/stream`.
--  Shares its listener with `RtmpOut` nodes on the same address.
--
--  srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{ listen = "1935" })
--  `max_connections` is SRS's; `max_connections_per_ip` (0: no limit) caps one address.
{ Type =
    { listen : Text, max_connections : Natural, max_connections_per_ip : Natural }
, default = { listen = "1935", max_connections = 1000, max_connections_per_ip = 0 }
}
