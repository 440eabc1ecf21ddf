--| One origin of a cluster sharing a stream directory in Redis (SRS 4's origin cluster, with
--  Redis for `coworkers`): streams published here are recorded as
--  `srs:stream:<vhost>/<app>/<stream>` → 127.0.0.1:1935 (set `rtmp` to the address the other
--  origins reach this one at), with a 10 s TTL refreshed while live; a player of a stream this
--  origin lacks makes it play the stream from the origin Redis names. Run one per machine (or
--  with other ports), all with the same `redis`; edges can name any of them.
let srs = ../nodes/package.dhall

let vhost = "__defaultVhost__"

in  srs.Graph::{
    , nodes =
      [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{ listen = "1935" })
      , srs.node
          "cluster"
          ( srs.Node.OriginCluster
              srs.OriginCluster::{
              , redis = "redis://127.0.0.1:6379"
              , rtmp = "127.0.0.1:1935"
              }
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
