--| graphs/live.dhall on ports 19350 (RTMP) and 18080 (HTTP-FLV), so a load test does not collide
--  with a server already on 1935/8080 (default mw_latency 350 ms).
let srs = ../../nodes/package.dhall

let vhost = "__defaultVhost__"

let realtime = False

in  srs.Graph::{
    , nodes =
      [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{ listen = "127.0.0.1:19350", max_connections = 3000 })
      , srs.node "rtmp_play" (srs.Node.RtmpOut srs.RtmpOut::{ listen = "127.0.0.1:19350" })
      , srs.node vhost (srs.Node.Vhost srs.Vhost::{ name = vhost, min_latency = realtime })
      , srs.node
          "${vhost}/http_remux"
          ( srs.Node.HttpRemux
              srs.HttpRemux::{
              , listen = "127.0.0.1:18080"
              , mount = "[vhost]/[app]/[stream].flv"
              }
          )
      ]
    , edges =
      [ srs.edge "rtmp" vhost
      , srs.edge vhost "rtmp_play"
      , srs.edge vhost "${vhost}/http_remux"
      ]
    }
