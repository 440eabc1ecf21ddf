--| srs.conf `vhost NAME { ... }`: the blocks that exist as nodes (`http_hooks`, `security` and
--  `refer` are settings of the vhost's router node). `transcode` and `ingest` blocks repeat: each
--  has the id its node is named by (`transcode`, `transcode/<scope>`, `ingest/<id>`).
let Play = ./Play.dhall

let Publish = ./Publish.dhall

let HttpRemux = ./HttpRemux.dhall

let HttpStatic = ./HttpStatic.dhall

let Dash = ./Dash.dhall

let Forward = ../forward.dhall

let Cluster = ./Cluster.dhall

let Exec = ../exec.dhall

let Transcode = ../transcode.dhall

let Ingest = ../ingest.dhall

let Dvr = ./Dvr.dhall

let Rtc = ./Rtc.dhall

let Hls = ./Hls.dhall

let HttpHooks = ../HttpHooks.dhall

let Security = ../Security.dhall

let Refer = ../Refer.dhall

in  { Type =
        { name : Text
        , enabled : Bool
        , min_latency : Bool
        , tcp_nodelay : Bool
        , chunk_size : Optional Natural
        , play : Play.Type
        , publish : Publish.Type
        , http_remux : Optional HttpRemux.Type
        , http_static : Optional HttpStatic.Type
        , dash : Optional Dash.Type
        , dvr : Optional Dvr.Type
        , hls : Optional Hls.Type
        , forward : Optional Forward.Type
        , cluster : Optional Cluster.Type
        , exec : Optional Exec.Type
        , transcode : List { id : Text, transcode : Transcode.Type }
        , ingest : List { id : Text, ingest : Ingest.Type }
        , http_hooks : Optional HttpHooks.Type
        , security : Optional Security.Type
        , refer : Optional Refer.Type
        , rtc : Optional Rtc.Type
        }
    , default =
      { name = "__defaultVhost__"
      , enabled = True
      , min_latency = False
      , tcp_nodelay = False
      , chunk_size = None Natural
      , play = Play.default
      , publish = Publish.default
      , http_remux = None HttpRemux.Type
      , http_static = None HttpStatic.Type
      , dash = None Dash.Type
      , dvr = None Dvr.Type
      , hls = None Hls.Type
      , forward = None Forward.Type
      , cluster = None Cluster.Type
      , exec = None Exec.Type
      , transcode = [] : List { id : Text, transcode : Transcode.Type }
      , ingest = [] : List { id : Text, ingest : Ingest.Type }
      , http_hooks = None HttpHooks.Type
      , security = None Security.Type
      , refer = None Refer.Type
      , rtc = None Rtc.Type
      }
    }
