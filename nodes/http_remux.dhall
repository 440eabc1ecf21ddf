--| `HttpRemux`: SRS's http_remux: live HTTP-FLV, HTTP-TS, HTTP-AAC or HTTP-MP3 by mount extension.
--  `[vhost]` at the start of the mount routes by Host header. `tls` serves HTTPS on `listen`.
--
--  srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{ listen = "8080", mount = "[vhost]/[app]/[stream].flv" })
{ Type =
    { listen : Text
    , mount : Text
    , crossdomain : Bool
    , tls : Optional (./TlsFiles.dhall).Type
    }
, default =
  { listen = "8080"
  , mount = "[vhost]/[app]/[stream].flv"
  , crossdomain = True
  , tls = None (./TlsFiles.dhall).Type
  }
}
