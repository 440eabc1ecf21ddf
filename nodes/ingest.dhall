--| `Ingest`: pulls a source and publishes it as `stream` (SRS's `ingest` block).
--  Native: local FLV/TS/MP4 files (`input_type = "file"`, real time, looping with `repeat`),
--  `rtmp://`, `http://….flv`, `srt://`, `http://….ts` (live MPEG-TS) and `http://….m3u8` (HLS
--  with TS segments: live, or VOD in real time looping with `repeat`; of a master playlist,
--  the highest variant within `hls_max_bandwidth` bit/s, 0: the highest); anything else (RTSP,
--  lavfi, devices, https), or any FFmpeg
--  arguments (`ffmpeg_input` before `-i`, `ffmpeg_output` codecs etc. before `-f flv`; none: copy)
--  goes through a supervised FFmpeg (`ffmpeg`) whose FLV this node reads from a pipe.
--  A source that fails or ends is pulled again with backoff.
--
--  srs.node "cam" (srs.Node.Ingest srs.Ingest::{ url = "rtmp://10.0.0.2/live/cam", stream = "live/cam" })
{ Type =
    { input_type : Text
    , url : Text
    , stream : Text
    , ffmpeg : Text
    , ffmpeg_input : List Text
    , ffmpeg_output : List Text
    , native : Bool
    , repeat : Bool
    , hls_max_bandwidth : Natural
    , max_processes : Natural
    }
, default =
  { input_type = "stream"
  , stream = "live/livestream"
  , ffmpeg = "ffmpeg"
  , ffmpeg_input = [] : List Text
  , ffmpeg_output = [] : List Text
  , native = True
  , repeat = True
  , hls_max_bandwidth = 0
  , max_processes = 0
  }
}
