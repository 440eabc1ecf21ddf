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
                  "stream_caster/mpegts_over_udp/8935"
                  ( srs.Node.MpegtsUdpIn
                      srs.MpegtsUdpIn::{ listen = "8935", stream = "live/livestream" }
                  )
              , srs.node "stream_caster/flv/8936" (srs.Node.FlvPostIn srs.FlvPostIn::{ listen = "8936" })
              ]
        , edges =
              live.edges
            # [ srs.edge "srt" vhost
              , srs.edge vhost "srt_play"
              , srs.edge "stream_caster/mpegts_over_udp/8935" vhost
              , srs.edge "stream_caster/flv/8936" vhost
              ]
        }
