--| SRS's `conf/rtc.conf`: RTMP (1935), WebRTC (UDP 8000, signalling on the API's 1985) and
--  HTTP-FLV (8080) on one vhost. Publish with RTMP or WHIP
--  (`http://127.0.0.1:1985/rtc/v1/whip/?app=live&stream=livestream`), play with RTMP, HTTP-FLV
--  (`http://127.0.0.1:8080/live/livestream.flv`) or WHEP (`/rtc/v1/whep/?app=live&stream=livestream`).
--  A WHIP stream's H.264 reaches the RTMP and HTTP-FLV players; an RTMP stream's H.264 reaches
--  WebRTC players (its AAC does not: no AAC-to-Opus bridge yet). Set `candidate` (or the
--  `CANDIDATE` variable with `candidate = "$CANDIDATE"`) to the IP browsers reach this server at.
let srs = ../nodes/package.dhall

let vhost = "__defaultVhost__"

let rtc = { listen = "8000", api = "1985", candidate = "*", max_connections = 1000 }

in  srs.Graph::{
    , nodes =
      [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{ listen = "1935" })
      , srs.node "rtc_publish" (srs.Node.RtcIn srs.RtcIn::rtc)
      , srs.node "http_api" (srs.Node.HttpApi srs.HttpApi::{ listen = "1985" })
      , srs.node vhost (srs.Node.Vhost srs.Vhost::{ name = vhost })
      , srs.node "rtmp_play" (srs.Node.RtmpOut srs.RtmpOut::{ listen = "1935" })
      , srs.node
          "${vhost}/http_remux"
          ( srs.Node.HttpRemux
              srs.HttpRemux::{ listen = "8080", mount = "[vhost]/[app]/[stream].flv" }
          )
      , srs.node "rtc_play" (srs.Node.RtcOut srs.RtcOut::rtc)
      ]
    , edges =
      [ srs.edge "rtmp" vhost
      , srs.edge "rtc_publish" vhost
      , srs.edge vhost "rtmp_play"
      , srs.edge vhost "${vhost}/http_remux"
      , srs.edge vhost "rtc_play"
      ]
    }
