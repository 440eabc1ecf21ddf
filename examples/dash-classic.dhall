--| The default server with DASH, written the srs.conf way: the same graph as graphs/dash.dhall.
let srs = ../nodes/package.dhall

in  srs.classic.toGraph
      srs.classic.Config::{
      , listen = "1935"
      , http_server = Some srs.classic.HttpServer::{ listen = "8080" }
      , http_api = Some srs.classic.HttpApi::{ listen = "1985" }
      , vhosts =
        [ srs.classic.Vhost::{
          , name = "__defaultVhost__"
          , http_remux = Some srs.classic.HttpRemux::{
            , mount = "[vhost]/[app]/[stream].flv"
            }
          , hls = Some srs.classic.Hls::{=}
          , dash = Some srs.classic.Dash::{ dash_path = "./objs/nginx/html" }
          }
        ]
      }
