--| `SrtOut`: SRT players (stream id `#!::r=app/stream,m=request`, or plain `app/stream`) get the
--  stream as MPEG-TS, muxed once per stream. Same settings as `SrtIn` (one listener per address).
--
--  srs.node "srt_play" (srs.Node.SrtOut srs.SrtOut::{ listen = "10080" })
./srt_in.dhall
