--| The default server written the srs.conf way: the same graph as graphs/live.dhall.
let srs = ../nodes/package.dhall

let classic = ../nodes/classic/package.dhall

in  classic.toGraph
      classic.Config::{
      , listen = "1935"
      , http_server = Some classic.HttpServer::{ listen = "8080" }
      , http_api = Some classic.HttpApi::{ listen = "1985" }
      , vhosts =
        [ classic.Vhost::{
          , name = "__defaultVhost__"
          , http_remux = Some classic.HttpRemux::{
            , mount = "[vhost]/[app]/[stream].flv"
            }
          , hls = Some classic.Hls::{=}
          }
        ]
      }
