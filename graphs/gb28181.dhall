--| The live server (graphs/live.dhall: RTMP, HTTP-FLV and HLS out, the HTTP API) plus GB28181
--  cameras (SRS's conf/gb28181.conf): devices register over SIP on 5060 (TCP and UDP), are
--  invited to send PS over RTP to 9000 (TCP and UDP), and device 34020000001320000001 plays at
--  rtmp://127.0.0.1/live/34020000001320000001 and http://127.0.0.1:8080/live/34020000001320000001.flv.
--  Set `candidate` to the IP cameras reach this host at when it is not the default route's.
let srs = ../nodes/package.dhall

let live = ./live.dhall

let vhost = "__defaultVhost__"

in      live
    //  { nodes =
              live.nodes
            # [ srs.node
                  "stream_caster/gb28181/9000"
                  ( srs.Node.Gb28181In
                      srs.Gb28181In::{ sip_listen = "5060", media_listen = "9000" }
                  )
              ]
        , edges = live.edges # [ srs.edge "stream_caster/gb28181/9000" vhost ]
        }
