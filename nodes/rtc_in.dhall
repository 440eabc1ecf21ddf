--| `RtcIn`: browsers publish over WebRTC (WHIP `POST /rtc/v1/whip/?app=&stream=`, or SRS's
--  `/rtc/v1/publish/`); H.264 and Opus become the stream's frames.
--
--  srs.node "rtc_publish" (srs.Node.RtcIn srs.RtcIn::{ listen = "8000", api = "1985" })
--  `listen` is the UDP port every WebRTC peer shares (SRS's `rtc_server.listen`), `api` the HTTP
--  address of the signalling routes (the `HttpApi`'s), `candidate` the IP put in answers (an IP,
--  `*` for the request's Host, or `$VAR`); offers beyond `max_connections` sessions get 503.
--  `pli_interval` (ms, SRS's `rtc.pli_for_rtmp`) asks the browser for a keyframe that often, so
--  RTMP and HTTP-FLV players, which start at a keyframe, get one; 0 asks only on loss.
--  `workers` UDP workers share the port, each on its own `SO_REUSEPORT` socket (0: one per core;
--  the most the nodes naming the port ask for).
--  `tcp` also listens for ICE over TCP (RFC 4571 framing) on `listen`'s port number (SRS 5's
--  `rtc_server.tcp`); `protocol` is the candidates answers carry: "udp", "tcp" (passive) or "all"
--  (SRS's `rtc_server.protocol`; TCP ones need `tcp`).
{ Type =
    { listen : Text
    , api : Text
    , candidate : Text
    , max_connections : Natural
    , pli_interval : Natural
    , workers : Natural
    , tcp : Bool
    , protocol : Text
    }
, default =
  { listen = "8000"
  , api = "1985"
  , candidate = "*"
  , max_connections = 1000
  , pli_interval = 6000
  , workers = 0
  , tcp = False
  , protocol = "udp"
  }
}
