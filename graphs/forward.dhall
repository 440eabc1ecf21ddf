--| Forward (SRS's vhost `forward`): every stream published on 1935 is served here (RTMP, and
--  HTTP-FLV on 8080) and pushed over RTMP to 127.0.0.1:19350 as well, same app and stream; the
--  destination reconnects with backoff and a slow one never slows the publisher.
--  `srs -c conf/forward.master.conf` is the srs.conf form.
let srs = ../nodes/package.dhall

let vhost = "__defaultVhost__"

in  srs.Graph::{
    , nodes =
      [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{ listen = "1935" })
      , srs.node "rtmp_play" (srs.Node.RtmpOut srs.RtmpOut::{ listen = "1935" })
      , srs.node vhost (srs.Node.Vhost srs.Vhost::{ name = vhost })
      , srs.node
          "${vhost}/http_remux"
          ( srs.Node.HttpRemux
              srs.HttpRemux::{ listen = "8080", mount = "[vhost]/[app]/[stream].flv" }
          )
      , srs.node
          "forward"
          ( srs.Node.Forward
              srs.Forward::{ destination = [ "127.0.0.1:19350" ] }
          )
      ]
    , edges =
      [ srs.edge "rtmp" vhost
      , srs.edge vhost "rtmp_play"
      , srs.edge vhost "${vhost}/http_remux"
      , srs.edge vhost "forward"
      ]
    }
