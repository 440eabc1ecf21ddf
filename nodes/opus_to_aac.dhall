--| `OpusToAac`: Opus becomes AAC-LC at 48 kHz stereo with its sequence header (SRS's
--  `rtc.rtc_to_rtmp`, with `aac_bitrate`); video, metadata and other audio pass through. Put it
--  before the RTMP, HTTP-FLV, HLS and DVR sinks of WebRTC publishers' streams.
--
--  srs.Node.OpusToAac srs.OpusToAac::{ bitrate = 48000 }
{ Type = { bitrate : Natural }, default.bitrate = 48000 }
