--| srs.conf `stream_caster { ... }` (repeatable): `MpegtsOverUdp` publishes every datagram on
--  `listen` (udp) as `stream` (SRS's `output` url, written as `app/stream`); `Flv` takes
--  `POST /<app>/<stream>.flv` on `listen` (tcp). Disabled casters make no node.
let Caster = < MpegtsOverUdp | Flv >

in  { Type = { enabled : Bool, caster : Caster, listen : Text, stream : Text }
    , default = { enabled = True, stream = "live/livestream" }
    , Caster
    }
