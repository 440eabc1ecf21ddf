--| srs.conf `rtc_server { ... }`: the UDP socket every WebRTC peer shares and the IP put in
--  answers (`*`: the signalling request's Host; `$CANDIDATE`: from the environment). It becomes
--  `RtcIn` "rtc" and `RtcOut` "rtc_play", whose signalling goes on the `http_api` address.
{ Type = { enabled : Bool, listen : Text, candidate : Text }
, default = { enabled = True, listen = "8000", candidate = "*" }
}
