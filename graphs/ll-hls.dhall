--| Low-Latency HLS: RTMP on 1935, fMP4 segments of 2 s cut in 500 ms parts, served on 8080
--  with blocking playlist reload (http://127.0.0.1:8080/live/livestream.m3u8).
let srs = ../nodes/package.dhall

let vhost = "__defaultVhost__"

in  srs.Graph::{
    , nodes =
      [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{ listen = "1935" })
      , srs.node vhost (srs.Node.Vhost srs.Vhost::{ name = vhost, min_latency = True })
      , srs.node
          "${vhost}/llhls"
          ( srs.Node.HlsOut
              srs.HlsOut::{
              , hls_fragment = 2.0
              , hls_window = 12.0
              , segment_format = srs.SegmentFormat.Fmp4
              , low_latency = True
              , part_target = 500
              }
          )
      , srs.node
          "http_server"
          ( srs.Node.HttpStatic
              srs.HttpStatic::{ listen = "8080", dir = "./objs/nginx/html" }
          )
      ]
    , edges = [ srs.edge "rtmp" vhost, srs.edge vhost "${vhost}/llhls" ]
    }
