--| SRS's `dvr_plan`: `Session` (one file per publish) or `Segment` (a new file every
--  `dvr_duration` seconds, on a keyframe when `dvr_wait_keyframe`).
< Session | Segment >
