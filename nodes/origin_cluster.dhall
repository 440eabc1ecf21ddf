--| `OriginCluster`: origins sharing a stream directory in Redis (SRS 4's `origin_cluster`,
--  Redis in place of `coworkers`). Each origin records the streams published on it (key
--  `srs:stream:<vhost>/<app>/<stream>` → `rtmp`, its RTMP `host:port` as the other origins reach
--  it) with a TTL of `ttl_s`, refreshed while live and deleted at unpublish; a player of a stream
--  this origin lacks makes it play the stream from the origin the directory names. Give it an
--  edge to the vhost, like a source. Redis unreachable: logged, local streams keep working.
--
--  srs.node "cluster" (srs.Node.OriginCluster srs.OriginCluster::{ redis = "redis://127.0.0.1:6379", rtmp = "10.0.0.1:1935" })
--  `http`: this origin's HTTP-FLV `host:port`, recorded too; `redirect = True`: HTTP-FLV players
--  of a stream another origin has get `302` to that origin's `http` instead of a pull here.
{ Type =
    { redis : Text
    , rtmp : Text
    , ttl_s : Natural
    , http : Optional Text
    , redirect : Bool
    }
, default =
  { redis = "redis://127.0.0.1:6379"
  , rtmp = "127.0.0.1:1935"
  , ttl_s = 10
  , http = None Text
  , redirect = False
  }
}
