--| An edge in front of two origins (SRS's `cluster { mode remote; origin ...; }`): the first
--  RTMP or HTTP-FLV player of a stream makes `edge` play it from 127.0.0.1:19350 (or from
--  127.0.0.1:19351 when the first is down or dies mid-stream) and every later player shares that
--  one upstream; a publish here is pushed to the origin by `edge_push`. Players: RTMP on 1935,
--  HTTP-FLV on 8080. `srs -c conf/edge.conf` is the srs.conf form (with conf/origin.conf).
let srs = ../nodes/package.dhall

let vhost = "__defaultVhost__"

let origins = [ "127.0.0.1:19350", "127.0.0.1:19351" ]

in  srs.Graph::{
    , nodes =
      [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{ listen = "1935" })
      , srs.node "edge" (srs.Node.EdgePull srs.EdgePull::{ origin = origins })
      , srs.node "rtmp_play" (srs.Node.RtmpOut srs.RtmpOut::{ listen = "1935" })
      , srs.node vhost (srs.Node.Vhost srs.Vhost::{ name = vhost })
      , srs.node
          "${vhost}/http_remux"
          ( srs.Node.HttpRemux
              srs.HttpRemux::{ listen = "8080", mount = "[vhost]/[app]/[stream].flv" }
          )
      , srs.node "edge_push" (srs.Node.EdgePush srs.EdgePush::{ origin = origins })
      ]
    , edges =
      [ srs.edge "rtmp" vhost
      , srs.edge "edge" vhost
      , srs.edge vhost "rtmp_play"
      , srs.edge vhost "${vhost}/http_remux"
      , srs.edge vhost "edge_push"
      ]
    }
