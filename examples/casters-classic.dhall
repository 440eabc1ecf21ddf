--| The live server with SRS's stream casters, the srs.conf way: the same graph as
--  graphs/casters.dhall (nodes named as `toGraph` names them).
let srs = ../nodes/package.dhall

let classic = ../nodes/classic/package.dhall

in  classic.toGraph
      classic.Config::{
      , listen = "1935"
      , http_server = Some classic.HttpServer::{ listen = "8080" }
      , http_api = Some classic.HttpApi::{ listen = "1985" }
      , srt_server = Some classic.SrtServer::{ listen = "10080" }
      , stream_casters =
        [ classic.StreamCaster::{
          , caster = classic.StreamCaster.Caster.MpegtsOverUdp
          , listen = "8935"
          , stream = "live/livestream"
          }
        , classic.StreamCaster::{
          , caster = classic.StreamCaster.Caster.Flv
          , listen = "8936"
          }
        ]
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
