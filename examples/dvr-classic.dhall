--| graphs/dvr.dhall written the srs.conf way: the default server plus `dvr` on the default vhost.
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
          , dvr = Some srs.classic.Dvr::{
            , dvr_path = "./objs/dvr/[app]/[stream].[timestamp].mp4"
            , dvr_plan = srs.DvrPlan.Session
            }
          }
        ]
      }
