-- expect: warning: node `mp3` (HttpRemux) takes video {} but edge `rtmp → mp3` may carry video {H264, H265, AV1}: its video is dropped
let srs = ../../../nodes/package.dhall
in  srs.Graph::{
    , nodes =
      [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{=})
      , srs.node "mp3" (srs.Node.HttpRemux srs.HttpRemux::{ mount = "[app]/[stream].mp3" })
      ]
    , edges = [ srs.edge "rtmp" "mp3" ]
    }
