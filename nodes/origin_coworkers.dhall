--| `OriginCoworkers`: SRS 4's origin cluster (`cluster { origin_cluster on; coworkers a b; }`).
--  `coworkers` are the HTTP API `host:port` of the cluster's origins (this one may be listed).
--  A player of a stream this origin lacks makes it ask each coworker's
--  `/api/v1/clusters?vhost=&ip=&app=&stream=&coworker=`; the origin that has the stream answers
--  its RTMP address. RTMP players get SRS's RTMP 302 there (`redirect = True`, SRS's way; SRS
--  edges and our `EdgePull` follow it, ffmpeg does not); with `redirect = False`, and always for
--  HTTP-FLV players, this origin pulls the stream from the owner and serves it. No coworker has
--  it: RTMP players are refused, as SRS does. Give it an edge to the vhost, like a source; the
--  graph needs an `HttpApi` for the other origins to ask this one.
--
--  srs.node "cluster" (srs.Node.OriginCoworkers srs.OriginCoworkers::{ coworkers = [ "127.0.0.1:9091", "127.0.0.1:9092" ] })
{ Type = { coworkers : List Text, vhost : Optional Text, redirect : Bool }
, default = { coworkers = [] : List Text, vhost = None Text, redirect = True }
}
