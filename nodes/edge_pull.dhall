--| `EdgePull`: an edge's players (SRS's `cluster { mode remote; origin ...; }`). The first
--  RTMP or HTTP-FLV player of a stream this server lacks makes it play the stream from the first
--  origin that answers (in order, the next at once when one dies) and publish it here; later
--  players share that upstream, closed `close_after_ms` after the last player left.
--  `token_traverse`: players are admitted only if an origin accepts a connect with their URL.
--
--  srs.node "edge" (srs.Node.EdgePull srs.EdgePull::{ origin = [ "10.0.0.1:1935" ] })
--  with edges "edge" -> the vhost -> RtmpOut / HttpRemux.
{ Type =
    { origin : List Text
    , vhost : Optional Text
    , token_traverse : Bool
    , close_after_ms : Natural
    }
, default =
  { origin = [] : List Text
  , vhost = None Text
  , token_traverse = False
  , close_after_ms = 3000
  }
}
