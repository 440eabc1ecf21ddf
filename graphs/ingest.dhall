--| SRS's default server (`live.dhall`) that also pulls two sources in: a file looped in real
--  time as live/file (our own FLV/MP4 reader) and a generated test card with a tone as live/test
--  (an FFmpeg child reading `lavfi`, the path for anything we do not read ourselves). Replace the
--  URLs with a camera's `rtmp://`, `http://….flv` or `rtsp://`.
let srs = ../nodes/package.dhall

let live = ./live.dhall

let vhost = "__defaultVhost__"

let file =
      srs.node
        "ingest_file"
        ( srs.Node.Ingest
            srs.Ingest::{
            , input_type = "file"
            , url = "./doc/source.flv"
            , stream = "live/file"
            }
        )

let test =
      srs.node
        "ingest_test"
        ( srs.Node.Ingest
            srs.Ingest::{
            , input_type = "device"
            , url =
                "testsrc=size=640x360:rate=25[out0];sine=frequency=440:sample_rate=44100[out1]"
            , stream = "live/test"
            , ffmpeg_input = [ "-f", "lavfi" ]
            , ffmpeg_output =
              [ "-vcodec", "libx264", "-preset", "veryfast", "-g", "50" ]
              # [ "-pix_fmt", "yuv420p", "-acodec", "aac" ]
            }
        )

in  live
  //  { nodes = live.nodes # [ file, test ]
      , edges = live.edges # [ srs.edge "ingest_file" vhost, srs.edge "ingest_test" vhost ]
      }
