--| `HlsOut`: SRS's `hls` block: live HLS written under `hls_path` (serve it with `HttpStatic`).
--  SRS 7 defaults: segments cut at hls_fragment × hls_td_ratio on keyframes, pure audio at
--  hls_fragment × hls_aof_ratio, a window of hls_window seconds, files disposed 120 s after
--  unpublish. `segment_format = Fmp4` adds AV1 and Opus; `low_latency` (fMP4) adds LL-HLS parts.
--  `hls_keys` (TS only) encrypts segments with AES-128, a new random key every
--  `hls_fragments_per_key` segments, written as `hls_key_file` under `hls_key_file_path` ("":
--  hls_path) and named `<hls_key_url><hls_key_file>` in the playlist ("": relative to it).
--  Date variables in file names are local time (`TZ`), UTC with `utc_time`.
--
--  srs.node "hls" (srs.Node.HlsOut srs.HlsOut::{ hls_fragment = 2.0, hls_window = 10.0 })
let SegmentFormat = ./SegmentFormat.dhall

let HlsOnError = ./HlsOnError.dhall

in  { Type =
        { hls_fragment : Double
        , hls_td_ratio : Double
        , hls_aof_ratio : Double
        , hls_window : Double
        , hls_path : Text
        , hls_m3u8_file : Text
        , hls_ts_file : Text
        , hls_entry_prefix : Text
        , hls_nb_notify : Natural
        , hls_ctx : Bool
        , hls_ts_ctx : Bool
        , hls_cleanup : Bool
        , hls_dispose : Natural
        , hls_wait_keyframe : Bool
        , hls_dts_directly : Bool
        , segment_format : SegmentFormat
        , low_latency : Bool
        , part_target : Natural
        , hls_on_error : HlsOnError
        , hls_keys : Bool
        , hls_fragments_per_key : Natural
        , hls_key_file : Text
        , hls_key_file_path : Text
        , hls_key_url : Text
        , utc_time : Bool
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
      , hls_nb_notify = 64
      , hls_ctx = True
      , hls_ts_ctx = True
      , hls_cleanup = True
      , hls_dispose = 120
      , hls_wait_keyframe = True
      , hls_dts_directly = True
      , segment_format = SegmentFormat.Ts
      , low_latency = False
      , part_target = 500
      , hls_on_error = HlsOnError.Continue
      , hls_keys = False
      , hls_fragments_per_key = 5
      , hls_key_file = "[app]/[stream]-[seq].key"
      , hls_key_file_path = ""
      , hls_key_url = ""
      , utc_time = False
      }
    }
