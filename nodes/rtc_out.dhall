--| `RtcOut`: browsers play over WebRTC (WHEP `POST /rtc/v1/whep/?app=&stream=`, or SRS's
--  `/rtc/v1/play/`). Frames are packetized once per stream; H.264 and Opus are sent.
--
--  srs.node "rtc_play" (srs.Node.RtcOut srs.RtcOut::{ listen = "8000", api = "1985" })
--  Same fields as `RtcIn`, with which it shares the UDP socket.
{ Type =
    { listen : Text
    , api : Text
    , candidate : Text
    , max_connections : Natural
    , workers : Natural
    , tcp : Bool
    , protocol : Text
    }
, default =
  { listen = "8000"
  , api = "1985"
  , candidate = "*"
  , max_connections = 1000
  , workers = 0
  , tcp = False
  , protocol = "udp"
  }
}
