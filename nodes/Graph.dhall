--| A graph file: nodes and edges, the template every live stream is instantiated from.
{ Type = { nodes : List ./NamedNode.dhall, edges : List ./Edge.dhall }
, default = { edges = [] : List ./Edge.dhall }
}
