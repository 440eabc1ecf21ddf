--| `node "name" (srs.Node.Kind config)`: names a node.
let NamedNode = ./NamedNode.dhall

let Node = ./Node.dhall

let node = \(name : Text) -> \(spec : Node) -> { name, node = spec } : NamedNode

in  node
