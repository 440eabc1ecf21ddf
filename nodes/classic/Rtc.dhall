--| srs.conf `vhost { rtc { ... } }` (present when `enabled on`): the bridges between WebRTC and
--  the rest. `rtmp_to_rtc` puts an `AacToOpus` "<vhost>/rtmp_to_rtc" between the vhost and
--  `rtc_play` (AAC becomes Opus at `opus_bitrate`; `keep_bframe`, `keep_avc_nalu_sei` as SRS);
--  `rtc_to_rtmp` puts an `OpusToAac` "<vhost>/rtc_to_rtmp" between the vhost's WebRTC router
--  "<vhost>/rtc" and its RTMP, HTTP-FLV, HLS, DASH, DVR and other sinks (Opus becomes AAC at
--  `aac_bitrate`). Off, a stream does not cross: WHEP refuses to play an RTMP stream, and a WHIP
--  stream reaches only WHEP players. `pli_interval` is `pli_for_rtmp` in milliseconds (srs.conf's
--  seconds); the first vhost with an `rtc` block sets the `RtcIn`'s `pli_interval`.
{ Type =
    { rtmp_to_rtc : Bool
    , rtc_to_rtmp : Bool
    , keep_bframe : Bool
    , keep_avc_nalu_sei : Bool
    , pli_interval : Natural
    , opus_bitrate : Natural
    , aac_bitrate : Natural
    }
, default =
  { rtmp_to_rtc = False
  , rtc_to_rtmp = False
  , keep_bframe = False
  , keep_avc_nalu_sei = True
  , pli_interval = 6000
  , opus_bitrate = 48000
  , aac_bitrate = 48000
  }
}
