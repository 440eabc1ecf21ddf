--| `RtmpIn`: publishers over RTMP (ffmpeg, OBS) become streams `vhost/app/stream`.
--  Shares its listener with `RtmpOut` nodes on the same address.
--
--  srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{ listen = "1935" })
{ Type = { listen : Text }, default = { listen = "1935" } }
