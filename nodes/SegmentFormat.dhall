--| HLS segment containers: `Ts` (MPEG-TS, playlist version 3, as SRS) or `Fmp4` (CMAF fragments,
--  version 7 with `#EXT-X-MAP`; needed for Low-Latency HLS, AV1 and Opus).
< Ts | Fmp4 >
