--| One FFmpeg encoding setup, SRS's `engine NAME { ... }` (for `Transcode` and `Ingest`).
--  `vcodec`: libx264, libx265, png, copy or vn; `acodec`: aac, libfdk_aac, libmp3lame, libopus,
--  copy or an; empty or `enabled = False` copies. Bitrates in kbps, 0 leaves FFmpeg's choice.
--  `*params`, `perfile` and `vfilter` are `-name value` pairs. `output` takes [vhost] [port]
--  [app] [stream] [engine] [param] and time variables.
let Param = { name : Text, value : Text }

in  { Type =
        { name : Text
        , enabled : Bool
        , vcodec : Text
        , vbitrate : Natural
        , vfps : Natural
        , vwidth : Natural
        , vheight : Natural
        , vthreads : Natural
        , vprofile : Text
        , vpreset : Text
        , vparams : List Param
        , acodec : Text
        , abitrate : Natural
        , asample_rate : Natural
        , achannels : Natural
        , aparams : List Param
        , perfile : List Param
        , vfilter : List Param
        , iformat : Text
        , oformat : Text
        , output : Text
        }
    , default =
      { enabled = True
      , vcodec = ""
      , vbitrate = 0
      , vfps = 0
      , vwidth = 0
      , vheight = 0
      , vthreads = 0
      , vprofile = ""
      , vpreset = ""
      , vparams = [] : List Param
      , acodec = ""
      , abitrate = 0
      , asample_rate = 0
      , achannels = 0
      , aparams = [] : List Param
      , perfile = [] : List Param
      , vfilter = [] : List Param
      , iformat = "flv"
      , oformat = "flv"
      , output = "rtmp://127.0.0.1:[port]/[app]?vhost=[vhost]/[stream]_[engine]"
      }
    }
