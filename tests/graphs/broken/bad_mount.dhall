-- expect: node `flv` (HttpRemux): field `mount` ends in `.mp4`
let srs = ../../../nodes/package.dhall
in  srs.Graph::{
    , nodes =
      [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{=})
      , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{ mount = "[app]/[stream].mp4" })
      ]
    , edges = [ srs.edge "rtmp" "flv" ]
    }
