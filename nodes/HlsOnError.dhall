--| SRS's `hls_on_error`: `Ignore` stops HLS for the publish and keeps the stream; `Disconnect`
--  ends the publisher's connection on any HLS error; `Continue` (SRS's default) skips a frame
--  the muxer refuses and ends the publisher's connection on any other error (a file that cannot
--  be written).
< Ignore | Disconnect | Continue >
