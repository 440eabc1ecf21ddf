-- expect: node `rtmp` (RtmpIn): field `listen`: `localhost` is not a listen address
let srs = ../../../nodes/package.dhall
in  srs.Graph::{
    , nodes =
      [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{ listen = "localhost" })
      , srs.node "play" (srs.Node.RtmpOut srs.RtmpOut::{=})
      ]
    , edges = [ srs.edge "rtmp" "play" ]
    }
