--| The bench graph with the HTTP API (19850) and the console (18080): what
--  `scripts/bench/console-poll.sh` measures the console's polling on.
let srs = ../../nodes/package.dhall

let vhost = "__defaultVhost__"

in  srs.Graph::{
    , nodes =
      [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{ listen = "127.0.0.1:19350", max_connections = 3000 })
      , srs.node "rtmp_play" (srs.Node.RtmpOut srs.RtmpOut::{ listen = "127.0.0.1:19350" })
      , srs.node "http_api" (srs.Node.HttpApi srs.HttpApi::{ listen = "127.0.0.1:19850" })
      , srs.node "console" (srs.Node.Console srs.Console::{ listen = "127.0.0.1:18080" })
      , srs.node vhost (srs.Node.Vhost srs.Vhost::{ name = vhost })
      , srs.node
          "${vhost}/http_remux"
          ( srs.Node.HttpRemux
              srs.HttpRemux::{ listen = "127.0.0.1:18080", mount = "[vhost]/[app]/[stream].flv" }
          )
      ]
    , edges =
      [ srs.edge "rtmp" vhost
      , srs.edge vhost "rtmp_play"
      , srs.edge vhost "${vhost}/http_remux"
      ]
    }
