-- expect: warning: node `mp3` (HttpRemux) takes audio {MP3} but edge `rtmp → mp3` may carry audio {AAC, MP3, Opus}: only {MP3} audio is carried
let srs = ../../../nodes/package.dhall
in  srs.Graph::{
    , nodes =
      [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{=})
      , srs.node "mp3" (srs.Node.HttpRemux srs.HttpRemux::{ mount = "[app]/[stream].mp3" })
      ]
    , edges = [ srs.edge "rtmp" "mp3" ]
    }
