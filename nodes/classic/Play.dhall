--| srs.conf `vhost { play { ... } }`, SRS's names and defaults.
let TimeJitter = ../TimeJitter.dhall

in  { Type =
        { gop_cache : Bool
        , gop_cache_max_frames : Natural
        , queue_length : Natural
        , time_jitter : TimeJitter
        , mix_correct : Bool
        , atc : Bool
        , mw_latency : Natural
        , mw_msgs : Natural
        }
    , default =
      { gop_cache = True
      , gop_cache_max_frames = 2500
      , queue_length = 30
      , time_jitter = TimeJitter.Full
      , mix_correct = False
      , atc = False
      , mw_latency = 350
      , mw_msgs = 8
      }
    }
