--| `HlsOut`: SRS's `hls` block: live HLS written under `hls_path` (serve it with `HttpStatic`).
--  SRS 7 defaults: segments cut at hls_fragment × hls_td_ratio on keyframes, pure audio at
--  hls_fragment × hls_aof_ratio, a window of hls_window seconds, files disposed 120 s after
--  unpublish. `segment_format = Fmp4` adds AV1 and Opus; `low_latency` (fMP4) adds LL-HLS parts.
--
--  srs.node "hls" (srs.Node.HlsOut srs.HlsOut::{ hls_fragment = 2.0, hls_window = 10.0 })
let SegmentFormat = ./SegmentFormat.dhall

in  { Type =
        { hls_fragment : Double
        , hls_td_ratio : Double
        , hls_aof_ratio : Double
        , hls_window : Double
        , hls_path : Text
        , hls_m3u8_file : Text
        , hls_ts_file : Text
        , hls_entry_prefix : Text
        , hls_ctx : Bool
        , hls_ts_ctx : Bool
        , hls_cleanup : Bool
        , hls_dispose : Natural
        , hls_wait_keyframe : Bool
        , hls_dts_directly : Bool
        , segment_format : SegmentFormat
        , low_latency : Bool
        , part_target : Natural
        }
    , default =
      { hls_fragment = 10.0
      , hls_td_ratio = 1.0
      , hls_aof_ratio = 2.1
      , hls_window = 60.0
      , hls_path = "./objs/nginx/html"
      , hls_m3u8_file = "[app]/[stream].m3u8"
      , hls_ts_file = "[app]/[stream]-[seq].ts"
      , hls_entry_prefix = ""
      , hls_ctx = True
      , hls_ts_ctx = True
      , hls_cleanup = True
      , hls_dispose = 120
      , hls_wait_keyframe = True
      , hls_dts_directly = True
      , segment_format = SegmentFormat.Ts
      , low_latency = False
      , part_target = 500
      }
    }
