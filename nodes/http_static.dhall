--| `HttpStatic`: SRS's http_server `dir` (and vhost `http_static`): the files under `dir`, served
--  below `mount` on the HTTP server at `listen`, with HLS/DASH MIME types, short caching for
--  manifests, CORS, and LL-HLS blocking playlist reload for live `HlsOut` playlists.
--  It takes no media edges.
--
--  srs.node "http_server" (srs.Node.HttpStatic srs.HttpStatic::{ listen = "8080", dir = "./objs/nginx/html" })
{ Type =
    { listen : Text
    , dir : Text
    , mount : Text
    , crossdomain : Bool
    , tls : Optional (./TlsFiles.dhall).Type
    }
, default =
  { listen = "8080"
  , dir = "./objs/nginx/html"
  , mount = "/"
  , crossdomain = True
  , tls = None (./TlsFiles.dhall).Type
  }
}
