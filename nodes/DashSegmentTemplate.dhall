--| How a `DashOut` MPD addresses media segments: `Number` (`$Number$` with a nominal duration,
--  exact when the GOP divides `dash_fragment`) or `Time` (`$Time$` with a `SegmentTimeline`).
< Number | Time >
