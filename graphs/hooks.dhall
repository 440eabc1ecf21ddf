--| The live server (graphs/live.dhall) with every SRS HTTP callback pointing at a hook server on
--  127.0.0.1:8085, as SRS's research/api-server: clients for on_connect/on_close, streams for
--  on_publish/on_unpublish, sessions for on_play/on_stop, dvrs for on_dvr, hls for on_hls.
let srs = ../nodes/package.dhall

let vhost = "__defaultVhost__"

let hookServer = "http://127.0.0.1:8085/api/v1"

in  srs.Graph::{
    , nodes =
      [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{ listen = "1935" })
      , srs.node "rtmp_play" (srs.Node.RtmpOut srs.RtmpOut::{ listen = "1935" })
      , srs.node "http_api" (srs.Node.HttpApi srs.HttpApi::{ listen = "1985" })
      , srs.node
          vhost
          ( srs.Node.Vhost
              srs.Vhost::{
              , name = vhost
              , http_hooks = Some srs.HttpHooks::{
                , on_connect = [ "${hookServer}/clients" ]
                , on_close = [ "${hookServer}/clients" ]
                , on_publish = [ "${hookServer}/streams" ]
                , on_unpublish = [ "${hookServer}/streams" ]
                , on_play = [ "${hookServer}/sessions" ]
                , on_stop = [ "${hookServer}/sessions" ]
                , on_dvr = [ "${hookServer}/dvrs" ]
                , on_hls = [ "${hookServer}/hls" ]
                }
              }
          )
      , srs.node
          "${vhost}/http_remux"
          ( srs.Node.HttpRemux
              srs.HttpRemux::{ listen = "8080", mount = "[vhost]/[app]/[stream].flv" }
          )
      ]
    , edges =
      [ srs.edge "rtmp" vhost
      , srs.edge vhost "rtmp_play"
      , srs.edge vhost "${vhost}/http_remux"
      ]
    }
