--| `MpegtsUdpIn`: SRS's `mpegts_over_udp` stream caster: every MPEG-TS datagram on `listen`
--  (from any sender) feeds the one stream `stream`; it is unpublished after `idle_timeout` ms
--  without datagrams and published again when they return.
--
--  srs.node "udp" (srs.Node.MpegtsUdpIn srs.MpegtsUdpIn::{ listen = "8935", stream = "live/livestream" })
{ Type = { listen : Text, stream : Text, idle_timeout : Natural }
, default = { listen = "8935", idle_timeout = 5000 }
}
