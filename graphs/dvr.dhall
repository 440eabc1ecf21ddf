--| SRS's default server (`live.dhall`) that also records every stream to MP4, one file per
--  publish, under ./objs/dvr/[app]/[stream].[timestamp].mp4.
--  `examples/dvr-classic.dhall` is the same server in srs.conf form.
let srs = ../nodes/package.dhall

let live = ./live.dhall

let vhost = "__defaultVhost__"

let dvr =
      srs.node
        "${vhost}/dvr"
        ( srs.Node.Dvr
            srs.Dvr::{
            , dvr_path = "./objs/dvr/[app]/[stream].[timestamp].mp4"
            , dvr_plan = srs.DvrPlan.Session
            }
        )

in  live // { nodes = live.nodes # [ dvr ], edges = live.edges # [ srs.edge vhost "${vhost}/dvr" ] }
