-- expect: edge `play → rec`: `play` is a RtmpOut sink and has no output
let srs = ../../../nodes/package.dhall
in  srs.Graph::{
    , nodes =
      [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{=})
      , srs.node "play" (srs.Node.RtmpOut srs.RtmpOut::{=})
      , srs.node "rec" (srs.Node.FileOut srs.FileOut::{ path = "out.flv" })
      ]
    , edges = [ srs.edge "rtmp" "play", srs.edge "play" "rec" ]
    }
