--| A small server: RTMP in on 1935, HTTP-FLV out on 8080, and every stream recorded to FLV.
let srs = ../nodes/package.dhall

in  srs.Graph::{
    , nodes =
      [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{ listen = "1935" })
      , srs.node "players" (srs.Node.RtmpOut srs.RtmpOut::{ listen = "1935" })
      , srs.node
          "__defaultVhost__"
          (srs.Node.Vhost srs.Vhost::{ gop_cache = True, mw_latency = 350 })
      , srs.node
          "flv"
          ( srs.Node.HttpRemux
              srs.HttpRemux::{ listen = "8080", mount = "[vhost]/[app]/[stream].flv" }
          )
      , srs.node
          "record"
          ( srs.Node.FileOut
              srs.FileOut::{ path = "./objs/record/[app]/[stream].[timestamp].flv" }
          )
      ]
    , edges =
      [ srs.edge "rtmp" "__defaultVhost__"
      , srs.edge "__defaultVhost__" "players"
      , srs.edge "__defaultVhost__" "flv"
      , srs.edge "__defaultVhost__" "record"
      ]
    }
