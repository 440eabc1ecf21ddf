--| SRS's default server.
let srs = ../nodes/package.dhall

in  srs.Graph::{ nodes = [ srs.node "__defaultVhost__" (srs.Node.Vhost srs.Vhost::{=}) ] }
