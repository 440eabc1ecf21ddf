--| A batch remux as a graph: `in.flv` published once, as fast as it reads, and written to `out.mp4`
--  (fragmented). `srs run graphs/remux.dhall` exits when the file is written (non-zero on damage).
--  Change the extensions to convert between FLV, MPEG-TS and MP4; `srs remux IN OUT` builds the same.
let srs = ../nodes/package.dhall

in  srs.Graph::{
    , nodes =
      [ srs.node "input" (srs.Node.FileIn srs.FileIn::{ path = "in.flv", stream = "remux/file" })
      , srs.node "output" (srs.Node.FileOut srs.FileOut::{ path = "out.mp4" })
      ]
    , edges = [ srs.edge "input" "output" ]
    }
