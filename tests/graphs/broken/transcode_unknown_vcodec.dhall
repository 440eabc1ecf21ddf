-- expect: node `transcode` (Transcode): field `engines`: engine `hd`: field `vcodec`: unknown codec `libx999`
let srs = ../../../nodes/package.dhall
in  srs.Graph::{
    , nodes =
      [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{ listen = "1935" })
      , srs.node "transcode"
          ( srs.Node.Transcode
              srs.Transcode::{
              , engines = [ srs.FfmpegEngine::{ name = "hd", vcodec = "libx999" } ]
              }
          )
      ]
    , edges = [ srs.edge "rtmp" "transcode" ]
    }
