--| SRS's default server (as `live.dhall`: RTMP on 1935, HTTP-FLV on 8080) that also records every
--  stream to MP4, one file per publish, under ./objs/dvr/[app]/[stream].[timestamp].mp4.
--  `examples/dvr-classic.dhall` is the same server in srs.conf form.
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
          "${vhost}/dvr"
          ( srs.Node.Dvr
              srs.Dvr::{
              , dvr_path = "./objs/dvr/[app]/[stream].[timestamp].mp4"
              , dvr_plan = srs.DvrPlan.Session
              }
          )
      ]
    , edges =
      [ srs.edge "rtmp" vhost
      , srs.edge vhost "rtmp_play"
      , srs.edge vhost "${vhost}/http_remux"
      , srs.edge vhost "${vhost}/dvr"
      ]
    }
