--| The WebRTC load-test server: the bench publishes over RTMP on 19350, its WHEP players signal
--  on the API at 19850 and take media from the one UDP port 18000 (up to 5000 sessions).
let srs = ../../nodes/package.dhall

let vhost = "__defaultVhost__"

in  srs.Graph::{
    , nodes =
      [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{ listen = "127.0.0.1:19350" })
      , srs.node "api" (srs.Node.HttpApi srs.HttpApi::{ listen = "127.0.0.1:19850" })
      , srs.node vhost (srs.Node.Vhost srs.Vhost::{ name = vhost })
      , srs.node
          "rtc_play"
          ( srs.Node.RtcOut
              srs.RtcOut::{
              , listen = "127.0.0.1:18000"
              , api = "127.0.0.1:19850"
              , candidate = "127.0.0.1"
              , max_connections = 5000
              }
          )
      ]
    , edges = [ srs.edge "rtmp" vhost, srs.edge vhost "rtc_play" ]
    }
