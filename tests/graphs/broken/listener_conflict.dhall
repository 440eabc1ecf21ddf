-- expect: listener conflict on 0.0.0.0:1935: node `rtmp` serves rtmp and node `flv` serves http
let srs = ../../../nodes/package.dhall
in  srs.Graph::{
    , nodes =
      [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{ listen = "1935" })
      , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{ listen = "1935" })
      ]
    , edges = [ srs.edge "rtmp" "flv" ]
    }
