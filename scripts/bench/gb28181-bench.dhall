--| The GB28181 load-test server: devices register on 15060 (SIP, TCP and UDP) and send media to
--  19000; streams play over RTMP on 19350 and HTTP-FLV on 18080 (nobody plays during the run).
let srs = ../../nodes/package.dhall

let vhost = "__defaultVhost__"

in  srs.Graph::{
    , nodes =
      [ srs.node
          "gb"
          ( srs.Node.Gb28181In
              srs.Gb28181In::{
              , sip_listen = "127.0.0.1:15060"
              , media_listen = "127.0.0.1:19000"
              , candidate = "127.0.0.1"
              }
          )
      , srs.node vhost (srs.Node.Vhost srs.Vhost::{ name = vhost })
      , srs.node "rtmp_play" (srs.Node.RtmpOut srs.RtmpOut::{ listen = "127.0.0.1:19350" })
      , srs.node
          "flv"
          ( srs.Node.HttpRemux
              srs.HttpRemux::{ listen = "127.0.0.1:18080", mount = "[vhost]/[app]/[stream].flv" }
          )
      ]
    , edges =
      [ srs.edge "gb" vhost, srs.edge vhost "rtmp_play", srs.edge vhost "flv" ]
    }
