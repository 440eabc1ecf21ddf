--| SRS's `conf/rtc.conf`: RTMP (1935), WebRTC (UDP 8000, signalling on the API's 1985),
--  HTTP-FLV (8080), HLS and DVR on one vhost, with both bridges of SRS's vhost `rtc { rtmp_to_rtc
--  on; rtc_to_rtmp on; }`. Publish with RTMP or WHIP
--  (`http://127.0.0.1:1985/rtc/v1/whip/?app=live&stream=livestream`), play with RTMP, HTTP-FLV
--  (`http://127.0.0.1:8080/live/livestream.flv`), HLS (`.../live/livestream.m3u8`) or WHEP
--  (`/rtc/v1/whep/?app=live&stream=livestream`).
--  Each kind of source has its own router for the vhost, so a stream crosses only the bridge it
--  needs: RTMP streams go straight to RTMP, HTTP-FLV, HLS and DVR, and through "rtmp_to_rtc"
--  (AAC into the Opus WebRTC players take, B-frames left out) to WHEP; WHIP streams go straight
--  to WHEP players with the publisher's Opus, and through "rtc_to_rtmp" (Opus into AAC) to RTMP,
--  HTTP-FLV, HLS and DVR. Leave a bridge out (SRS's `rtmp_to_rtc off` / `rtc_to_rtmp off`) and
--  those streams do not cross over: WHEP refuses to play an RTMP stream (SRS #2728).
--  Set `candidate` (or the `CANDIDATE` variable with `candidate = "$CANDIDATE"`) to the IP
--  browsers reach this server at.
let srs = ../nodes/package.dhall

let vhost = "__defaultVhost__"

let rtc = { listen = "8000", api = "1985", candidate = "*", max_connections = 1000 }

in  srs.Graph::{
    , nodes =
      [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{ listen = "1935" })
      , srs.node "rtc_publish" (srs.Node.RtcIn srs.RtcIn::rtc)
      , srs.node "http_api" (srs.Node.HttpApi srs.HttpApi::{ listen = "1985" })
      , srs.node vhost (srs.Node.Vhost srs.Vhost::{ name = vhost })
      , srs.node "${vhost}/rtc" (srs.Node.Vhost srs.Vhost::{ name = vhost })
      , srs.node "rtmp_to_rtc" (srs.Node.AacToOpus srs.AacToOpus::{ bitrate = 48000 })
      , srs.node "rtc_to_rtmp" (srs.Node.OpusToAac srs.OpusToAac::{ bitrate = 48000 })
      , srs.node "rtmp_play" (srs.Node.RtmpOut srs.RtmpOut::{ listen = "1935" })
      , srs.node
          "${vhost}/http_remux"
          ( srs.Node.HttpRemux
              srs.HttpRemux::{ listen = "8080", mount = "[vhost]/[app]/[stream].flv" }
          )
      , srs.node "${vhost}/hls" (srs.Node.HlsOut srs.HlsOut::{ hls_path = "./objs/nginx/html" })
      , srs.node
          "http_server"
          (srs.Node.HttpStatic srs.HttpStatic::{ listen = "8080", dir = "./objs/nginx/html" })
      , srs.node "${vhost}/dvr" (srs.Node.Dvr srs.Dvr::{=})
      , srs.node "rtc_play" (srs.Node.RtcOut srs.RtcOut::rtc)
      ]
    , edges =
      [ srs.edge "rtmp" vhost
      , srs.edge vhost "rtmp_play"
      , srs.edge vhost "${vhost}/http_remux"
      , srs.edge vhost "${vhost}/hls"
      , srs.edge vhost "${vhost}/dvr"
      , srs.edge vhost "rtmp_to_rtc"
      , srs.edge "rtmp_to_rtc" "rtc_play"
      , srs.edge "rtc_publish" "${vhost}/rtc"
      , srs.edge "${vhost}/rtc" "rtc_play"
      , srs.edge "${vhost}/rtc" "rtc_to_rtmp"
      , srs.edge "rtc_to_rtmp" "rtmp_play"
      , srs.edge "rtc_to_rtmp" "${vhost}/http_remux"
      , srs.edge "rtc_to_rtmp" "${vhost}/hls"
      , srs.edge "rtc_to_rtmp" "${vhost}/dvr"
      ]
    }
