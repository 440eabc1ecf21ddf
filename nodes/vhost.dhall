--| `Vhost`: SRS's vhost as a router: streams whose vhost matches `name` take this branch, with
--  SRS's play and publish settings for the nodes after it (names and defaults as in srs.conf).
--
--  srs.Node.Vhost srs.Vhost::{ name = "__defaultVhost__", mw_latency = 350 }
let TimeJitter = ./TimeJitter.dhall

let HttpHooks = ./HttpHooks.dhall

let Security = ./Security.dhall

let Refer = ./Refer.dhall

in  { Type =
        { name : Text
        , enabled : Bool
        , gop_cache : Bool
        , gop_cache_max_frames : Natural
        , queue_length : Natural
        , mw_latency : Natural
        , mw_msgs : Natural
        , min_latency : Bool
        , time_jitter : TimeJitter
        , mix_correct : Bool
        , atc : Bool
        , firstpkt_timeout : Natural
        , normal_timeout : Natural
        , tcp_nodelay : Bool
        , chunk_size : Natural
        , http_hooks : Optional HttpHooks.Type
        , security : Optional Security.Type
        , refer : Optional Refer.Type
        }
    , default =
      { name = "__defaultVhost__"
      , enabled = True
      , gop_cache = True
      , gop_cache_max_frames = 2500
      , queue_length = 30
      , mw_latency = 350
      , mw_msgs = 8
      , min_latency = False
      , time_jitter = TimeJitter.Full
      , mix_correct = False
      , atc = False
      , firstpkt_timeout = 20000
      , normal_timeout = 5000
      , tcp_nodelay = False
      , chunk_size = 60000
      , http_hooks = None HttpHooks.Type
      , security = None Security.Type
      , refer = None Refer.Type
      }
    }
