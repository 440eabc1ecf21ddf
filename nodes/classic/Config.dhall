--| A whole srs.conf: global settings and vhosts (blocks arrive here as their nodes do).
let Vhost = ./Vhost.dhall

let HttpServer = ./HttpServer.dhall

let HttpApi = ./HttpApi.dhall

let Https = ./Https.dhall
let StreamCaster = ./StreamCaster.dhall

let SrtServer = ./SrtServer.dhall

let RtcServer = ./RtcServer.dhall

in  { Type =
        { listen : Text
        , chunk_size : Natural
        , max_connections : Natural
        , server_id : Optional Text
        , utc_time : Bool
        , http_server : Optional HttpServer.Type
        , http_api : Optional HttpApi.Type
        , http_api_https : Optional Https.Type
        , srt_server : Optional SrtServer.Type
        , rtc_server : Optional RtcServer.Type
        , stream_casters : List StreamCaster.Type
        , vhosts : List Vhost.Type
        }
    , default =
      { listen = "1935"
      , chunk_size = 60000
      , max_connections = 1000
      , server_id = None Text
      , utc_time = False
      , http_server = None HttpServer.Type
      , http_api = None HttpApi.Type
      , http_api_https = None Https.Type
      , srt_server = None SrtServer.Type
      , rtc_server = None RtcServer.Type
      , stream_casters = [] : List StreamCaster.Type
      , vhosts = [ Vhost.default ]
      }
    }
