--| The node catalogue: a `{ Type, default }` per node kind (use `::` completion), the `Node`
--  union, `Graph`, `Edge`, helpers, and `classic`: the srs.conf-shaped form.
--
--  let srs = ../nodes/package.dhall
--  in  srs.Graph::{ nodes = [ srs.node "rtmp" (srs.Node.RtmpIn srs.RtmpIn::{=}) ] }
{ FileIn = ./file_in.dhall
, FileOut = ./file_out.dhall
, HttpApi = ./http_api.dhall
, HttpRemux = ./http_remux.dhall
, Jitter = ./jitter.dhall
, RtmpIn = ./rtmp_in.dhall
, RtmpOut = ./rtmp_out.dhall
, Vhost = ./vhost.dhall
, TimeJitter = ./TimeJitter.dhall
, HttpHooks = ./HttpHooks.dhall
, Refer = ./Refer.dhall
, Security = ./Security.dhall
, Node = ./Node.dhall
, NamedNode = ./NamedNode.dhall
, Graph = ./Graph.dhall
, Edge = ./Edge.dhall
, edge = ./edge.dhall
, node = ./node.dhall
, classic = ./classic/package.dhall
}
