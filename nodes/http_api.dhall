--| `HttpApi`: SRS's HTTP API (`/api/v1/versions|summaries|vhosts|streams|clients|raw`), plus
--  `/api/v1/graph` and `/metrics`. A service node: it takes no edges. On the same `listen` as an
--  `HttpRemux` it shares that HTTP server (SRS's API reusing the http_server port).
--
--  srs.node "http_api" (srs.Node.HttpApi srs.HttpApi::{ listen = "1985" })
{ Type =
    { listen : Text
    , crossdomain : Bool
    , auth : { enabled : Bool, username : Text, password : Text }
    , bearer_token : Optional Text
    , raw_api : { enabled : Bool, allow_reload : Bool }
    , tls : Optional (./TlsFiles.dhall).Type
    }
, default =
  { listen = "1985"
  , crossdomain = True
  , auth = { enabled = False, username = "", password = "" }
  , bearer_token = None Text
  , raw_api = { enabled = False, allow_reload = False }
  , tls = None (./TlsFiles.dhall).Type
  }
}
