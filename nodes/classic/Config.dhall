--| A whole srs.conf: global settings and vhosts (blocks arrive here as their nodes do).
let Vhost = ./Vhost.dhall

let HttpServer = ./HttpServer.dhall

let StreamCaster = ./StreamCaster.dhall

let SrtServer = ./SrtServer.dhall

in  { Type =
        { listen : Text
        , chunk_size : Natural
        , http_server : Optional HttpServer.Type
        , srt_server : Optional SrtServer.Type
        , stream_casters : List StreamCaster.Type
        , vhosts : List Vhost.Type
        }
    , default =
      { listen = "1935"
      , chunk_size = 60000
      , http_server = None HttpServer.Type
      , srt_server = None SrtServer.Type
      , stream_casters = [] : List StreamCaster.Type
      , vhosts = [ Vhost.default ]
      }
    }
