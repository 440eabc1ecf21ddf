--| graphs/dvr.dhall written the srs.conf way: the default server plus `dvr` on the default vhost.
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
          , dvr = Some classic.Dvr::{
            , dvr_path = "./objs/dvr/[app]/[stream].[timestamp].mp4"
            , dvr_plan = srs.DvrPlan.Session
            }
          }
        ]
      }
