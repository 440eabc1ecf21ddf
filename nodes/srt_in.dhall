--| `SrtIn`: SRT publishers (stream id `#!::r=app/stream,m=publish`, `h=` for the vhost) sending
--  MPEG-TS. Shares its listener with `SrtOut` nodes on the same address; `latency` (ms),
--  `passphrase` (10 to 79 characters, empty: none), `pbkeylen` and `default_app` are SRS's
--  `srt_server` settings and must be equal on every SRT node of one address.
--
--  srs.node "srt" (srs.Node.SrtIn srs.SrtIn::{ listen = "10080" })
{ Type =
    { listen : Text
    , latency : Natural
    , passphrase : Text
    , pbkeylen : Natural
    , default_app : Text
    }
, default =
  { listen = "10080"
  , latency = 120
  , passphrase = ""
  , pbkeylen = 0
  , default_app = "live"
  }
}
