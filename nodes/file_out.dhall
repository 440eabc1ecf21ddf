--| `FileOut`: writes each stream to a file (format by extension: .flv); `path` is an SRS template
--  with [vhost] [app] [stream] [timestamp]. Written under a temporary name, renamed at the end.
--
--  srs.node "record" (srs.Node.FileOut srs.FileOut::{ path = "./objs/[app]/[stream].[timestamp].flv" })
{ Type = { path : Text }, default = {=} }
