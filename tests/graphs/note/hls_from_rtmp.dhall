-- expect: note: node `hls` (HlsOut) takes video {H264, H265} but edge `rtmp → hls` may carry video {H264, H265, AV1}: only {H264, H265} video is carried
let srs = ../../../nodes/package.dhall
in  srs.Graph::{
    , nodes =
      [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{=})
      , srs.node "hls" (srs.Node.HlsOut srs.HlsOut::{=})
      ]
    , edges = [ srs.edge "rtmp" "hls" ]
    }
