-- expect: field `gop_cach` is unknown
let srs = ../../../nodes/package.dhall
in  srs.Graph::{
    , nodes =
      [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{=})
      , srs.node "v" (srs.Node.Vhost srs.Vhost::{ gop_cach = False })
      ]
    , edges = [ srs.edge "rtmp" "v" ]
    }
