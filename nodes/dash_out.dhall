--| `DashOut`: SRS's `dash { }`: each stream as MPEG-DASH under `dash_path` (an MPD and per-track
--  fMP4 init/media segments in a folder beside it), for a static HTTP server to serve.
--  Video {H264, H265, AV1} and audio {AAC, Opus, MP3} as separate representations; segments cut at
--  keyframes after `dash_fragment` seconds; the last `dash_window_size` kept; when the stream ends
--  the MPD turns static, and `dash_dispose` seconds later (0: never) every file is removed.
--
--  srs.node "dash" (srs.Node.DashOut srs.DashOut::{ dash_fragment = 2.0, dash_path = "./objs/nginx/html" })
let DashSegmentTemplate = ./DashSegmentTemplate.dhall

in  { Type =
        { dash_fragment : Double
        , dash_update_period : Double
        , dash_timeshift : Double
        , dash_path : Text
        , dash_mpd_file : Text
        , dash_window_size : Natural
        , dash_cleanup : Bool
        , dash_dispose : Double
        , segment_template : DashSegmentTemplate
        }
    , default =
      { dash_fragment = 10.0
      , dash_update_period = 5.0
      , dash_timeshift = 300.0
      , dash_path = "./objs/nginx/html"
      , dash_mpd_file = "[app]/[stream].mpd"
      , dash_window_size = 5
      , dash_cleanup = True
      , dash_dispose = 120.0
      , segment_template = DashSegmentTemplate.Time
      }
    }
