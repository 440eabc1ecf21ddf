--| srs.conf `rtc_server { ... }`: the UDP socket every WebRTC peer shares and the IP put in
--  answers (`*`: the signalling request's Host; `$CANDIDATE`: from the environment), `tcp` its
--  `tcp { enabled on; }` (ICE over TCP on the same port number) and `protocol` the candidates
--  answers carry (`udp`, `tcp`, `all`). It becomes
--  `RtcIn` "rtc" and `RtcOut` "rtc_play", whose signalling goes on the `http_api` address.
{ Type =
    { enabled : Bool
    , listen : Text
    , candidate : Text
    , tcp : Bool
    , protocol : Text
    }
, default =
  { enabled = True
  , listen = "8000"
  , candidate = "*"
  , tcp = False
  , protocol = "udp"
  }
}
