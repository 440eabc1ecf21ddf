--| `Transcode`: SRS's vhost `transcode` block. Per published stream, one FFmpeg per enabled
--  engine plays the stream from this server's RTMP listener and publishes the rendition back
--  (`[stream]_[engine]` by default), served like any stream; an engine's output is never
--  transcoded again. `scope` is SRS's block argument: "" (every stream), an app, or `app/stream`.
--  `hls_master` (a path template, e.g. "./objs/nginx/html/[app]/[stream]_abr.m3u8") writes an HLS
--  master playlist naming each rendition's playlist (`hls_variant`) with its bandwidth and size,
--  measured from the rendition's stream (peak bit rate over 2 s windows, plus 10 % for the
--  segments' packaging; its picture size) and rewritten as they settle; the engine's settings
--  stand in until the rendition is measured.
--
--  srs.node "transcode" (srs.Node.Transcode srs.Transcode::{ engines = [ srs.FfmpegEngine::{ name = "sd", vcodec = "libx264", vwidth = 320, vheight = 180 } ] })
{ Type =
    { ffmpeg : Text
    , scope : Text
    , engines : List (./FfmpegEngine.dhall).Type
    , hls_master : Text
    , hls_variant : Text
    , max_processes : Natural
    }
, default =
  { ffmpeg = "ffmpeg"
  , scope = ""
  , engines = [] : List (./FfmpegEngine.dhall).Type
  , hls_master = ""
  , hls_variant = "[stream]_[engine].m3u8"
  , max_processes = 0
  }
}
