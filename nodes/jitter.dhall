--| `Jitter`: SRS's time_jitter correction, once per stream; any media in, same media out.
--
--  srs.Node.Jitter srs.Jitter::{ algorithm = srs.TimeJitter.Full }
let TimeJitter = ./TimeJitter.dhall

in  { Type = { algorithm : TimeJitter }, default = { algorithm = TimeJitter.Full } }
