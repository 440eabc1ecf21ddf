--| srs.conf `vhost NAME { ... }`: the blocks that exist as nodes.
let Play = ./Play.dhall

let Publish = ./Publish.dhall

let HttpRemux = ./HttpRemux.dhall

let Dvr = ./Dvr.dhall
let Hls = ./Hls.dhall

in  { Type =
        { name : Text
        , min_latency : Bool
        , tcp_nodelay : Bool
        , chunk_size : Optional Natural
        , play : Play.Type
        , publish : Publish.Type
        , http_remux : Optional HttpRemux.Type
        , dvr : Optional Dvr.Type
        , hls : Optional Hls.Type
        }
    , default =
      { name = "__defaultVhost__"
      , min_latency = False
      , tcp_nodelay = False
      , chunk_size = None Natural
      , play = Play.default
      , publish = Publish.default
      , http_remux = None HttpRemux.Type
      , dvr = None Dvr.Type
      , hls = None Hls.Type
      }
    }
