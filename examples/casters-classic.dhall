--| The live server with SRS's stream casters, the srs.conf way: the same graph as
--  graphs/casters.dhall (nodes named as `toGraph` names them).
let srs = ../nodes/package.dhall

in  srs.classic.toGraph
      srs.classic.Config::{
      , listen = "1935"
      , http_server = Some srs.classic.HttpServer::{ listen = "8080" }
      , http_api = Some srs.classic.HttpApi::{ listen = "1985" }
      , srt_server = Some srs.classic.SrtServer::{ listen = "10080" }
      , stream_casters =
        [ srs.classic.StreamCaster::{
          , caster = srs.classic.StreamCaster.Caster.MpegtsOverUdp
          , listen = "8935"
          , stream = "live/livestream"
          }
        , srs.classic.StreamCaster::{
          , caster = srs.classic.StreamCaster.Caster.Flv
          , listen = "8936"
          }
        ]
      , vhosts =
        [ srs.classic.Vhost::{
          , name = "__defaultVhost__"
          , http_remux = Some srs.classic.HttpRemux::{
            , mount = "[vhost]/[app]/[stream].flv"
            }
          , hls = Some srs.classic.Hls::{=}
          }
        ]
      }
