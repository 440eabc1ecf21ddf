--| srs.conf `vhost { hls { ... } }`: SRS's names and (v7) defaults; the same record as the
--  `HlsOut` node, so a classic `hls` block becomes an `HlsOut` node unchanged.
../hls_out.dhall
