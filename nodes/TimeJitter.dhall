--| SRS's `time_jitter` algorithms: `Full` (steps beyond ±250 ms become +10 ms, metadata stamped 0),
--  `Zero` (timestamps start at 0), `Off` (untouched).
< Full | Zero | Off >
