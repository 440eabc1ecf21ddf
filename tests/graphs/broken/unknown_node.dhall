-- expect: edge `rtmp → vhots`: to names unknown node `vhots`
let srs = ../../../nodes/package.dhall
in  srs.Graph::{
    , nodes =
      [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{=})
      , srs.node "vhost" (srs.Node.Vhost srs.Vhost::{=})
      , srs.node "play" (srs.Node.RtmpOut srs.RtmpOut::{=})
      ]
    , edges = [ srs.edge "rtmp" "vhots", srs.edge "vhost" "play" ]
    }
