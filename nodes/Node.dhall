--| Every node kind: the union graph files pick from (the Rust twin is `NodeSpec`).
< Console : (./console.dhall).Type
| DashOut : (./dash_out.dhall).Type
| Dvr : (./dvr.dhall).Type
| EdgePull : (./edge_pull.dhall).Type
| EdgePush : (./edge_push.dhall).Type
| Exec : (./exec.dhall).Type
| FileIn : (./file_in.dhall).Type
| FileOut : (./file_out.dhall).Type
| FlvPostIn : (./flv_post_in.dhall).Type
| Forward : (./forward.dhall).Type
| Gb28181In : (./gb28181_in.dhall).Type
| HlsOut : (./hls_out.dhall).Type
| HttpApi : (./http_api.dhall).Type
| HttpRemux : (./http_remux.dhall).Type
| HttpStatic : (./http_static.dhall).Type
| Ingest : (./ingest.dhall).Type
| Jitter : (./jitter.dhall).Type
| MpegtsUdpIn : (./mpegts_udp_in.dhall).Type
| RtcIn : (./rtc_in.dhall).Type
| RtcOut : (./rtc_out.dhall).Type
| RtmpIn : (./rtmp_in.dhall).Type
| RtmpOut : (./rtmp_out.dhall).Type
| SrtIn : (./srt_in.dhall).Type
| SrtOut : (./srt_out.dhall).Type
| Transcode : (./transcode.dhall).Type
| Vhost : (./vhost.dhall).Type
>
