--| srs.conf `stream_caster { ... }` (repeatable): `MpegtsOverUdp` publishes every datagram on
--  `listen` (udp) as `stream` (SRS's `output` url, written as `app/stream`); `Flv` takes
--  `POST /<app>/<stream>.flv` on `listen` (tcp); `Gb28181` takes GB28181 devices' media on
--  `listen` (tcp and udp) and their SIP on `sip.listen` (SRS's `sip { }`), publishing
--  `<app>/<device id>` (`app` from SRS's `output`). Disabled casters make no node.
let Caster = < MpegtsOverUdp | Flv | Gb28181 >

let Sip =
      { Type =
          { enabled : Bool
          , listen : Text
          , timeout : Natural
          , reinvite : Natural
          , candidate : Text
          }
      , default =
        { enabled = True
        , listen = "5060"
        , timeout = 60
        , reinvite = 5
        , candidate = "*"
        }
      }

in  { Type =
        { enabled : Bool
        , caster : Caster
        , listen : Text
        , stream : Text
        , app : Text
        , sip : Sip.Type
        }
    , default =
      { enabled = True, stream = "live/livestream", app = "live", sip = Sip.default }
    , Caster
    , Sip
    }
