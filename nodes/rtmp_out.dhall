--| `RtmpOut`: RTMP players; each frame is chunked once per stream and shared by every player.
--  Serving settings (gop cache, mw_latency, chunk_size) come from the `Vhost` node upstream.
--
--  srs.node "rtmp_play" (srs.Node.RtmpOut srs.RtmpOut::{ listen = "1935" })
{ Type = { listen : Text }, default = { listen = "1935" } }
