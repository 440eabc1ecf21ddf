--| SRS's default server (`live.dhall`) that also makes a 360p and a 720p rendition of every
--  stream with FFmpeg (libx264 + AAC): rtmp://127.0.0.1/live/livestream is served as well as
--  livestream_360p and livestream_720p (RTMP, HTTP-FLV, HLS), which are not transcoded again.
let srs = ../nodes/package.dhall

let live = ./live.dhall

let vhost = "__defaultVhost__"

let rendition =
      \(name : Text) ->
      \(width : Natural) ->
      \(height : Natural) ->
      \(kbps : Natural) ->
        srs.FfmpegEngine::{
        , name
        , vcodec = "libx264"
        , vbitrate = kbps
        , vfps = 25
        , vwidth = width
        , vheight = height
        , vprofile = "main"
        , vpreset = "veryfast"
        , vparams = [ { name = "g", value = "50" } ]
        , acodec = "aac"
        , abitrate = 64
        , asample_rate = 44100
        , achannels = 2
        }

let transcode =
      srs.node
        "${vhost}/transcode"
        ( srs.Node.Transcode
            srs.Transcode::{
            , engines =
              [ rendition "360p" 640 360 800, rendition "720p" 1280 720 2500 ]
            }
        )

in  live
  //  { nodes = live.nodes # [ transcode ]
      , edges = live.edges # [ srs.edge vhost "${vhost}/transcode" ]
      }
