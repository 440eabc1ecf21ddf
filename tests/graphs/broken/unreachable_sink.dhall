-- expect: node `orphan` (FileOut) has no input edge
let srs = ../../../nodes/package.dhall
in  srs.Graph::{
    , nodes =
      [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{=})
      , srs.node "play" (srs.Node.RtmpOut srs.RtmpOut::{=})
      , srs.node "orphan" (srs.Node.FileOut srs.FileOut::{ path = "out.flv" })
      ]
    , edges = [ srs.edge "rtmp" "play" ]
    }
