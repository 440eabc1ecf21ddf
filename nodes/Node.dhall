--| Every node kind: the union graph files pick from (the Rust twin is `NodeSpec`).
< FileIn : (./file_in.dhall).Type
| FileOut : (./file_out.dhall).Type
| HttpApi : (./http_api.dhall).Type
| HttpRemux : (./http_remux.dhall).Type
| Jitter : (./jitter.dhall).Type
| RtmpIn : (./rtmp_in.dhall).Type
| RtmpOut : (./rtmp_out.dhall).Type
| Vhost : (./vhost.dhall).Type
>
