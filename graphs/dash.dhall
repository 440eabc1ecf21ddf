--| SRS's default server plus DASH: RTMP on 1935 (publish and play), HTTP-FLV on 8080, and each
--  stream written as MPEG-DASH under ./objs/nginx/html ([app]/[stream].mpd, SRS's `dash` defaults).
--  `examples/dash-classic.dhall` is the same server in srs.conf form.
let srs = ../nodes/package.dhall

let vhost = "__defaultVhost__"

in  srs.Graph::{
    , nodes =
      [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{ listen = "1935" })
      , srs.node "rtmp_play" (srs.Node.RtmpOut srs.RtmpOut::{ listen = "1935" })
      , srs.node vhost (srs.Node.Vhost srs.Vhost::{ name = vhost })
      , srs.node
          "${vhost}/http_remux"
          ( srs.Node.HttpRemux
              srs.HttpRemux::{ listen = "8080", mount = "[vhost]/[app]/[stream].flv" }
          )
      , srs.node
          "${vhost}/dash"
          ( srs.Node.DashOut
              srs.DashOut::{ dash_path = "./objs/nginx/html" }
          )
      ]
    , edges =
      [ srs.edge "rtmp" vhost
      , srs.edge vhost "rtmp_play"
      , srs.edge vhost "${vhost}/http_remux"
      , srs.edge vhost "${vhost}/dash"
      ]
    }
