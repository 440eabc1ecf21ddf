--| `Dvr`: SRS's `dvr`: records each stream to FLV or MP4 (`dvr_path` ending in .mp4; a path not
--  ending in .flv/.mp4 is a directory and gets `/[stream].[timestamp].flv`). `Session`: one file per
--  publish; `Segment`: a new file every `dvr_duration` seconds (on a keyframe when
--  `dvr_wait_keyframe`), with metadata and sequence headers repeated. `dvr_apply`: [ "all" ] or
--  "app/stream" names. Files are written as `<path>.tmp` (MP4 fragmented) and renamed when closed.
--  Date variables ([2006] [01] [02] [15] [04] [05] [999]) are local time (`TZ`), UTC with
--  `utc_time` (in the classic form, srs.conf's global `utc_time` sets it).
--
--  srs.node "dvr" (srs.Node.Dvr srs.Dvr::{
--    dvr_path = "./objs/dvr/[app]/[stream].[timestamp].mp4", dvr_plan = srs.DvrPlan.Segment })
let DvrPlan = ./DvrPlan.dhall

let TimeJitter = ./TimeJitter.dhall

in  { Type =
        { dvr_apply : List Text
        , dvr_plan : DvrPlan
        , dvr_path : Text
        , dvr_duration : Natural
        , dvr_wait_keyframe : Bool
        , time_jitter : TimeJitter
        , utc_time : Bool
        }
    , default =
      { dvr_apply = [ "all" ]
      , dvr_plan = DvrPlan.Session
      , dvr_path = "./objs/nginx/html/[app]/[stream].[timestamp].flv"
      , dvr_duration = 30
      , dvr_wait_keyframe = True
      , time_jitter = TimeJitter.Full
      , utc_time = False
      }
    }
