--| The live server (graphs/live.dhall) plus SRS's stream casters on their default ports: SRT on
--  10080/udp (publish and play), MPEG-TS over UDP on 8935/udp publishing live/livestream, and
--  FLV over HTTP POST on 8936. Every caster publishes through the same vhost as RTMP does.
let srs = ../nodes/package.dhall

let live = ./live.dhall

let vhost = "__defaultVhost__"

in      live
    //  { nodes =
              live.nodes
            # [ srs.node "srt" (srs.Node.SrtIn srs.SrtIn::{ listen = "10080" })
              , srs.node "srt_play" (srs.Node.SrtOut srs.SrtOut::{ listen = "10080" })
              , srs.node
                  "mpegts_udp"
                  ( srs.Node.MpegtsUdpIn
                      srs.MpegtsUdpIn::{ listen = "8935", stream = "live/livestream" }
                  )
              , srs.node "flv_post" (srs.Node.FlvPostIn srs.FlvPostIn::{ listen = "8936" })
              ]
        , edges =
              live.edges
            # [ srs.edge "srt" vhost
              , srs.edge vhost "srt_play"
              , srs.edge "mpegts_udp" vhost
              , srs.edge "flv_post" vhost
              ]
        }
