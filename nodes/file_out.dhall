--| `FileOut`: writes each stream to a file: FLV, MPEG-TS or MP4 by extension (.flv, .ts, .mp4,
--  .m4a, .mov), or a VOD: HLS (.m3u8, TS segments beside it) or static DASH (.mpd, fMP4 segments
--  in a folder beside it) cut at keyframes ≥ `segment_duration` seconds, unless `format` says;
--  `path` is an SRS template with [vhost] [app] [stream] [timestamp] [2006] [01] [02] [15] [04] [05] [999]. Written under `<path>.tmp`, renamed at the
--  end. MP4 is fragmented unless `mp4_layout` says `Classic` or `Faststart`.
--
--  srs.node "record" (srs.Node.FileOut srs.FileOut::{ path = "./objs/[app]/[stream].[timestamp].mp4" })
let FileFormat = ./FileFormat.dhall

let Mp4Layout = ./Mp4Layout.dhall

in  { Type =
        { path : Text
        , format : Optional FileFormat
        , mp4_layout : Mp4Layout
        , segment_duration : Double
        }
    , default =
      { format = None FileFormat
      , mp4_layout = Mp4Layout.Fragmented
      , segment_duration = 6.0
      }
    }
