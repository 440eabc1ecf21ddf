--| `Transcode`: SRS's vhost `transcode` block. Per published stream, one FFmpeg per enabled
--  engine plays the stream from this server's RTMP listener and publishes the rendition back
--  (`[stream]_[engine]` by default), served like any stream; an engine's output is never
--  transcoded again. `scope` is SRS's block argument: "" (every stream), an app, or `app/stream`.
--
--  srs.node "transcode" (srs.Node.Transcode srs.Transcode::{ engines = [ srs.FfmpegEngine::{ name = "sd", vcodec = "libx264", vwidth = 320, vheight = 180 } ] })
{ Type =
    { ffmpeg : Text
    , scope : Text
    , engines : List (./FfmpegEngine.dhall).Type
    , max_processes : Natural
    }
, default =
  { ffmpeg = "ffmpeg"
  , scope = ""
  , engines = [] : List (./FfmpegEngine.dhall).Type
  , max_processes = 0
  }
}
