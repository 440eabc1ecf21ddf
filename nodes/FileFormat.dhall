--| File containers: FLV, MPEG-TS, MP4 (ISO BMFF).
< Flv | Ts | Mp4 >
