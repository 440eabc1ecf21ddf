--| One origin of SRS 4's origin cluster (`origin_cluster` with `coworkers`): the origins know
--  each other's HTTP API. A player of a stream this origin lacks makes it ask each coworker's
--  `/api/v1/clusters`; an RTMP player is answered SRS's RTMP 302 to the origin that has the
--  stream (SRS edges and ours follow it), an HTTP-FLV player is served by pulling from there.
--  Run one per machine (or with other ports), each listing the others' API; edges name them
--  all as origins. `conf/origin.cluster.serverA.conf` is the srs.conf form.
let srs = ../nodes/package.dhall

let vhost = "__defaultVhost__"

in  srs.Graph::{
    , nodes =
      [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{ listen = "1935" })
      , srs.node
          "cluster"
          ( srs.Node.OriginCoworkers
              srs.OriginCoworkers::{ coworkers = [ "10.0.0.2:1985", "10.0.0.3:1985" ] }
          )
      , srs.node "rtmp_play" (srs.Node.RtmpOut srs.RtmpOut::{ listen = "1935" })
      , srs.node "http_api" (srs.Node.HttpApi srs.HttpApi::{ listen = "1985" })
      , srs.node vhost (srs.Node.Vhost srs.Vhost::{ name = vhost })
      , srs.node
          "${vhost}/http_remux"
          ( srs.Node.HttpRemux
              srs.HttpRemux::{ listen = "8080", mount = "[vhost]/[app]/[stream].flv" }
          )
      ]
    , edges =
      [ srs.edge "rtmp" vhost
      , srs.edge "cluster" vhost
      , srs.edge vhost "rtmp_play"
      , srs.edge vhost "${vhost}/http_remux"
      ]
    }
