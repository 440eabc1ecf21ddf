--| `AacToOpus`: SRS's `rtc.rtmp_to_rtc` bridge, before `RtcOut`: AAC becomes 20 ms Opus frames at
--  48 kHz stereo (`bitrate`: SRS's `opus_bitrate`); H.264 B-frames and SEI units are left out
--  unless `keep_bframe` / `keep_avc_nalu_sei` (SRS's defaults: off / on); the rest passes through.
--  `complexity`: libopus's, 0 to 10 (not in SRS, whose FFmpeg encoder runs at 10): 5 costs about
--  half of 10; lower trades quality for streams per core. Feeding only `RtcOut` nodes, it
--  transcodes only while the stream has a WebRTC player.
--
--  srs.Node.AacToOpus srs.AacToOpus::{ bitrate = 48000 }
{ Type =
    { bitrate : Natural, keep_bframe : Bool, keep_avc_nalu_sei : Bool, complexity : Natural }
, default =
  { bitrate = 48000, keep_bframe = False, keep_avc_nalu_sei = True, complexity = 5 }
}
