-- expect: nodes `a` and `b` both take the rtmp publish role
let srs = ../../../nodes/package.dhall
in  srs.Graph::{
    , nodes =
      [ srs.node "a" (srs.Node.RtmpIn srs.RtmpIn::{ listen = "1935" })
      , srs.node "b" (srs.Node.RtmpIn srs.RtmpIn::{ listen = "1935" })
      , srs.node "play" (srs.Node.RtmpOut srs.RtmpOut::{ listen = "1935" })
      ]
    , edges = [ srs.edge "a" "play", srs.edge "b" "play" ]
    }
