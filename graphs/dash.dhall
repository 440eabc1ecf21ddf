--| SRS's default server (`live.dhall`) plus DASH: each stream is also written as MPEG-DASH under
--  ./objs/nginx/html ([app]/[stream].mpd, SRS's `dash` defaults) and served on 8080 from there.
--  `examples/dash-classic.dhall` is the same server in srs.conf form.
let srs = ../nodes/package.dhall

let live = ./live.dhall

let vhost = "__defaultVhost__"

let dash =
      srs.node
        "${vhost}/dash"
        (srs.Node.DashOut srs.DashOut::{ dash_path = "./objs/nginx/html" })

in  live
  // { nodes = live.nodes # [ dash ], edges = live.edges # [ srs.edge vhost "${vhost}/dash" ] }
