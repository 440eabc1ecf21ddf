-- expect: cycle through nodes `a`, `b`
let srs = ../../../nodes/package.dhall
in  srs.Graph::{
    , nodes =
      [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{=})
      , srs.node "a" (srs.Node.Jitter srs.Jitter::{=})
      , srs.node "b" (srs.Node.Jitter srs.Jitter::{=})
      , srs.node "play" (srs.Node.RtmpOut srs.RtmpOut::{=})
      ]
    , edges = [ srs.edge "rtmp" "a", srs.edge "a" "b", srs.edge "b" "a", srs.edge "b" "play" ]
    }
