--| `FileIn`: publishes a media file (format by extension: .flv) as the stream `stream`,
--  as fast as possible or paced in real time; `repeat` loops it.
--
--  srs.node "file" (srs.Node.FileIn srs.FileIn::{ path = "in.flv", stream = "live/file", realtime = True })
{ Type = { path : Text, stream : Text, realtime : Bool, repeat : Bool }
, default = { stream = "live/livestream", realtime = False, repeat = False }
}
