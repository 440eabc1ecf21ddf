--| srs.conf `vhost { cluster { } }`, present in `mode remote` (an edge: `remote = True`) or with
--  `origin_cluster on` (SRS 4's origin cluster). `toGraph` makes an edge's `EdgePull` (players
--  pull from the origins) and `EdgePush` (publishers are pushed to them), or an origin's
--  `OriginCoworkers` (players of a stream another coworker has are redirected to it).
{ Type =
    { remote : Bool
    , origin : List Text
    , token_traverse : Bool
    , origin_cluster : Bool
    , coworkers : List Text
    }
, default =
  { remote = True
  , origin = [] : List Text
  , token_traverse = False
  , origin_cluster = False
  , coworkers = [] : List Text
  }
}
