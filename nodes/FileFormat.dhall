--| File containers: FLV, MPEG-TS, MP4 (ISO BMFF); HLS (VOD playlist) and DASH (static MPD) as outputs.
< Flv | Ts | Mp4 | Hls | Dash >
