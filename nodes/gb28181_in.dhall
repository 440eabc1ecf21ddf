--| `Gb28181In`: SRS's `gb28181` stream caster. Cameras REGISTER over SIP (TCP and UDP on
--  `sip_listen`), are INVITEd to send PS over RTP to `media_listen` (TCP RFC 4571 and UDP, shared
--  by every device) and publish `<app>/<device id>`. `password` (non-empty) asks devices for MD5
--  digest authentication; `reinvite` seconds of media loss bring a new INVITE, `timeout` seconds
--  of silence end the stream; `candidate` is the IP written in INVITEs (`*`: this host's).
--  With `sip_enabled = False` an external SIP server invites devices, announced through the HTTP
--  API's `POST /gb/v1/publish/`.
--
--  srs.node "gb" (srs.Node.Gb28181In srs.Gb28181In::{ sip_listen = "5060", media_listen = "9000" })
{ Type =
    { sip_listen : Text
    , media_listen : Text
    , sip_enabled : Bool
    , app : Text
    , server_id : Text
    , realm : Text
    , password : Text
    , candidate : Text
    , timeout : Natural
    , reinvite : Natural
    }
, default =
  { sip_listen = "5060"
  , media_listen = "9000"
  , sip_enabled = True
  , app = "live"
  , server_id = "34020000002000000001"
  , realm = "3402000000"
  , password = ""
  , candidate = "*"
  , timeout = 60
  , reinvite = 5
  }
}
