--| How an MP4 file is laid out: `Fragmented` (a moof+mdat per GOP, playable if the writer dies),
--  `Classic` (moov written at the end), `Faststart` (classic, then moov moved to the front).
< Fragmented | Classic | Faststart >
