--| `edge "a" "b"`: an edge from node `a` to node `b`.
let Edge = ./Edge.dhall

let edge = \(from : Text) -> \(to : Text) -> { from, to } : Edge

let example = assert : edge "rtmp" "vhost" === { from = "rtmp", to = "vhost" }

in  edge
