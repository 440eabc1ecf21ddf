--| SRS's default server, node by node: RTMP on 1935 (publish and play), HTTP-FLV on 8080 at
--  [vhost]/[app]/[stream].flv, HLS written to ./objs/nginx/html and served on 8080 from there
--  (rtmp://127.0.0.1/live/livestream plays at http://127.0.0.1:8080/live/livestream.m3u8), and
--  the HTTP API on 1985; the home page, console and players at http://127.0.0.1:8080/.
--  `examples/live-classic.dhall` is the same server in srs.conf form.
let srs = ../nodes/package.dhall

let vhost = "__defaultVhost__"

in  srs.Graph::{
    , nodes =
      [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{ listen = "1935" })
      , srs.node "rtmp_play" (srs.Node.RtmpOut srs.RtmpOut::{ listen = "1935" })
      , srs.node "http_api" (srs.Node.HttpApi srs.HttpApi::{ listen = "1985" })
      , srs.node vhost (srs.Node.Vhost srs.Vhost::{ name = vhost })
      , srs.node
          "${vhost}/http_remux"
          ( srs.Node.HttpRemux
              srs.HttpRemux::{ listen = "8080", mount = "[vhost]/[app]/[stream].flv" }
          )
      , srs.node
          "${vhost}/hls"
          ( srs.Node.HlsOut
              srs.HlsOut::{
              , hls_path = "./objs/nginx/html"
              , hls_m3u8_file = "[app]/[stream].m3u8"
              }
          )
      , srs.node "console" (srs.Node.Console srs.Console::{ listen = "8080" })
      , srs.node
          "http_server"
          ( srs.Node.HttpStatic
              srs.HttpStatic::{ listen = "8080", dir = "./objs/nginx/html" }
          )
      ]
    , edges =
      [ srs.edge "rtmp" vhost
      , srs.edge vhost "rtmp_play"
      , srs.edge vhost "${vhost}/http_remux"
      , srs.edge vhost "${vhost}/hls"
      ]
    }
