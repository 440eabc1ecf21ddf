-- expect: node `play` is defined twice
let srs = ../../../nodes/package.dhall
in  srs.Graph::{
    , nodes =
      [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{=})
      , srs.node "play" (srs.Node.RtmpOut srs.RtmpOut::{=})
      , srs.node "play" (srs.Node.FileOut srs.FileOut::{ path = "x.flv" })
      ]
    , edges = [ srs.edge "rtmp" "play" ]
    }
