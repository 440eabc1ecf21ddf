--| The node catalogue: a `{ Type, default }` per node kind (use `::` completion), the `Node`
--  union, `Graph`, `Edge` and helpers, and `classic`: the srs.conf-shaped form.
--
--  let srs = ../nodes/package.dhall
--  in  srs.Graph::{ nodes = [ srs.node "v" (srs.Node.Vhost srs.Vhost::{=}) ], edges = [] : List srs.Edge }
{ Jitter = ./jitter.dhall
, Vhost = ./vhost.dhall
, TimeJitter = ./TimeJitter.dhall
, Node = ./Node.dhall
, NamedNode = ./NamedNode.dhall
, Graph = ./Graph.dhall
, Edge = ./Edge.dhall
, edge = ./edge.dhall
, node = ./node.dhall
}
