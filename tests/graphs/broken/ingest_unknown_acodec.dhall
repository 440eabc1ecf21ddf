-- expect: node `cam` (Ingest): field `engine`: engine `e`: field `acodec`: unknown codec `pcm_s16le`
let srs = ../../../nodes/package.dhall
in  srs.Graph::{
    , nodes =
      [ srs.node "cam"
          ( srs.Node.Ingest
              srs.Ingest::{
              , url = "rtsp://127.0.0.1/cam"
              , engine = Some srs.FfmpegEngine::{ name = "e", acodec = "pcm_s16le" }
              }
          )
      , srs.node "play" (srs.Node.RtmpOut srs.RtmpOut::{=})
      ]
    , edges = [ srs.edge "cam" "play" ]
    }
