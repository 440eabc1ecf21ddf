--| srs.conf `vhost { http_hooks { ... } }`: SRS's HTTP callbacks, each a list of URLs called in
--  order (the first failure denies connect, publish and play). `timeout_ms` bounds each call
--  (SRS waits 30 s; 5 s here); `allow_on_error` allows when a hook server is unreachable.
--  `https://` URLs are checked against the system's roots, plus the PEM file `ca_file`.
--
--  http_hooks = Some srs.HttpHooks::{ enabled = True, on_publish = [ "http://127.0.0.1:8085/api/v1/streams" ] }
{ Type =
    { enabled : Bool
    , on_connect : List Text
    , on_close : List Text
    , on_publish : List Text
    , on_unpublish : List Text
    , on_play : List Text
    , on_stop : List Text
    , on_dvr : List Text
    , on_hls : List Text
    , on_hls_notify : List Text
    , timeout_ms : Natural
    , allow_on_error : Bool
    , ca_file : Optional Text
    }
, default =
  { enabled = True
  , on_connect = [] : List Text
  , on_close = [] : List Text
  , on_publish = [] : List Text
  , on_unpublish = [] : List Text
  , on_play = [] : List Text
  , on_stop = [] : List Text
  , on_dvr = [] : List Text
  , on_hls = [] : List Text
  , on_hls_notify = [] : List Text
  , timeout_ms = 5000
  , allow_on_error = False
  , ca_file = None Text
  }
}
