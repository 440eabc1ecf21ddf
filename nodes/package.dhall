--| The node catalogue: a `{ Type, default }` per node kind (use `::` completion), the `Node`
--  union, `Graph`, `Edge`, helpers, and `classic`: the srs.conf-shaped form.
--
--  let srs = ../nodes/package.dhall
--  in  srs.Graph::{ nodes = [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{=}) ] }
{ Dvr = ./dvr.dhall
, FileIn = ./file_in.dhall
, FileOut = ./file_out.dhall
, HlsOut = ./hls_out.dhall
, HttpRemux = ./http_remux.dhall
, HttpStatic = ./http_static.dhall
, Jitter = ./jitter.dhall
, RtmpIn = ./rtmp_in.dhall
, RtmpOut = ./rtmp_out.dhall
, Vhost = ./vhost.dhall
, DvrPlan = ./DvrPlan.dhall
, FileFormat = ./FileFormat.dhall
, Mp4Layout = ./Mp4Layout.dhall
, SegmentFormat = ./SegmentFormat.dhall
, TimeJitter = ./TimeJitter.dhall
, Node = ./Node.dhall
, NamedNode = ./NamedNode.dhall
, Graph = ./Graph.dhall
, Edge = ./Edge.dhall
, edge = ./edge.dhall
, node = ./node.dhall
, classic = ./classic/package.dhall
}
