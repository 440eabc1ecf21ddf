--| `HttpStatic`: SRS's http_server `dir` (and vhost `http_static`): the files under `dir`, served
--  below `mount` on the HTTP server at `listen`, with HLS/DASH MIME types, short caching for
--  manifests, CORS, byte ranges, LL-HLS blocking playlist reload and SRS's HLS play sessions
--  (`hls_ctx`) for live `HlsOut` playlists. It takes no media edges.
--  `vhost`: serve only requests whose Host names that vhost (several nodes may share `listen`;
--  a node without `vhost`, or with `__defaultVhost__`, serves the other hosts); a leading
--  `[vhost]` in `mount` stands for that host, as in srs.conf.
--
--  srs.node "http_server" (srs.Node.HttpStatic srs.HttpStatic::{ listen = "8080", dir = "./objs/nginx/html" })
--  srs.node "a.com/http_static" (srs.Node.HttpStatic srs.HttpStatic::{ listen = "8080", dir = "./a", vhost = Some "a.com" })
{ Type =
    { listen : Text
    , dir : Text
    , mount : Text
    , crossdomain : Bool
    , tls : Optional (./TlsFiles.dhall).Type
    , vhost : Optional Text
    }
, default =
  { listen = "8080"
  , dir = "./objs/nginx/html"
  , mount = "/"
  , crossdomain = True
  , tls = None (./TlsFiles.dhall).Type
  , vhost = None Text
  }
}
