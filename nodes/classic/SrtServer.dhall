--| srs.conf `srt_server { ... }`: one SRT listener for publishers and players, SRS's defaults.
{ Type =
    { enabled : Bool
    , listen : Text
    , latency : Natural
    , passphrase : Text
    , pbkeylen : Natural
    , default_app : Text
    }
, default =
  { enabled = True
  , listen = "10080"
  , latency = 120
  , passphrase = ""
  , pbkeylen = 0
  , default_app = "live"
  }
}
