//! H.265 over WebRTC with real parts: the `rtc` crate as the browser (`rtc_client/`), ffmpeg's
//! libx265 as the encoder, ffprobe as the judge.
//!
//! - A WHIP publisher offering H.264 and H.265 with SRS's `codec=hevc` sends a libx265 clip
//!   (320x240, 50 frames, no B-frames): the answer takes H.265; an HTTP-FLV player gets Enhanced
//!   RTMP `hvc1` tags (a sequence header of 320x240 and every frame), and the DVR MP4 and an HLS
//!   segment read back with ffprobe as HEVC 320x240, the MP4 with every frame sent; a WHEP player
//!   offering only H.265 gets the clip's pictures byte for byte from a keyframe on.
//! - ffmpeg publishes libx265 over MPEG-TS/UDP; a WHEP player offering H.265 gets it: its RTP,
//!   put back together by our depacketizer and written as Annex-B, decodes as HEVC 320x240.
//! - A WHEP player offering only H.264 on that H.265 stream gets 400 naming the reason.

mod common;

#[path = "rtc_client/whep.rs"]
mod whep;
#[path = "rtc_client/whip.rs"]
#[allow(dead_code)] // `publish` (H.264 only) serves rtc_bridges
mod whip;

use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use common::{free_port, free_udp_port, probe, run_graph, temp_dir, wait_for};
use srs::codec::nal;
use srs::codec::rtp::h265::{H265Depacketizer, H265Event};
use srs::codec::rtp::h265_filter;
use srs::media::Codec;

/// Frames of the WHIP clip (2 s at 25 fps).
const CLIP_FRAMES: usize = 50;

/// RTMP-side and WebRTC routers as `graphs/rtc.dhall` has them, an MPEG-TS/UDP input, HTTP-FLV,
/// DVR (MP4) and HLS.
fn graph(dir: &Path, api: u16, udp: u16, ts: u16, http: u16) -> String {
    let dir = dir.display();
    format!(
        r#"let rtc = {{ listen = "127.0.0.1:{udp}", api = "127.0.0.1:{api}", candidate = "127.0.0.1", max_connections = 100, workers = 0, tcp = False, protocol = "udp" }}
let vhost = "__defaultVhost__"
in srs.Graph::{{
    , nodes =
      [ srs.node "ts" (srs.Node.MpegtsUdpIn srs.MpegtsUdpIn::{{ listen = "127.0.0.1:{ts}", stream = "live/tshevc" }})
      , srs.node "rtc_publish" (srs.Node.RtcIn (rtc // {{ pli_interval = 6000 }}))
      , srs.node "api" (srs.Node.HttpApi srs.HttpApi::{{ listen = "127.0.0.1:{api}" }})
      , srs.node vhost (srs.Node.Vhost srs.Vhost::{{=}})
      , srs.node "${{vhost}}/rtc" (srs.Node.Vhost srs.Vhost::{{=}})
      , srs.node "rtmp_to_rtc" (srs.Node.AacToOpus srs.AacToOpus::{{=}})
      , srs.node "rtc_to_rtmp" (srs.Node.OpusToAac srs.OpusToAac::{{=}})
      , srs.node "flv" (srs.Node.HttpRemux srs.HttpRemux::{{ listen = "127.0.0.1:{http}", mount = "[app]/[stream].flv" }})
      , srs.node "hls" (srs.Node.HlsOut srs.HlsOut::{{ hls_path = "{dir}/hls", hls_fragment = 1.0 }})
      , srs.node "dvr" (srs.Node.Dvr srs.Dvr::{{ dvr_path = "{dir}/dvr/[app]/[stream].mp4" }})
      , srs.node "rtc_play" (srs.Node.RtcOut rtc)
      ]
    , edges =
      [ srs.edge "ts" vhost
      , srs.edge vhost "rtmp_to_rtc"
      , srs.edge "rtmp_to_rtc" "rtc_play"
      , srs.edge "rtc_publish" "${{vhost}}/rtc"
      , srs.edge "${{vhost}}/rtc" "rtc_play"
      , srs.edge "${{vhost}}/rtc" "rtc_to_rtmp"
      , srs.edge "rtc_to_rtmp" "flv"
      , srs.edge "rtc_to_rtmp" "hls"
      , srs.edge "rtc_to_rtmp" "dvr"
      ]
    }}"#
    )
}

/// libx265 with what WebRTC senders do: no B-frames, a keyframe a second, quiet.
const X265_PARAMS: &str = "bframes=0:keyint=25:min-keyint=25:scenecut=0:log-level=error";
/// libx265 as an RTMP/SRT/TS publisher uses it: its default B-frames, a keyframe a second.
const X265_BFRAMES_PARAMS: &str = "keyint=25:min-keyint=25:scenecut=0:log-level=error";

/// A 320x240 libx265 clip of `CLIP_FRAMES` frames at 25 fps, as access units (capture time,
/// keyframe, length-prefixed NAL units without parameter sets) and its VPS, SPS, PPS.
fn hevc_clip(dir: &Path) -> (Vec<(Duration, bool, Bytes)>, Vec<Bytes>) {
    let file = dir.join("clip.hevc");
    let frames = CLIP_FRAMES.to_string();
    common::ffmpeg(&[
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=25",
        "-frames:v",
        &frames,
        "-c:v",
        "libx265",
        "-pix_fmt",
        "yuv420p",
        "-x265-params",
        X265_PARAMS,
        "-f",
        "hevc",
        file.to_str().expect("path"),
    ]);
    let data = std::fs::read(&file).expect("hevc clip");
    let mut sets: Vec<Bytes> = Vec::new();
    let mut pictures: Vec<Vec<&[u8]>> = Vec::new();
    let mut open = false;
    for unit in nal::annexb(&data).filter(|u| u.len() > 2) {
        let kind = (unit[0] >> 1) & 0x3f;
        match kind {
            32..=34 => {
                if sets.len() < 3 {
                    sets.push(Bytes::copy_from_slice(unit));
                }
                open = false;
            }
            0..=31 => {
                // The first slice of a picture has first_slice_segment_in_pic_flag set.
                if unit[2] & 0x80 != 0 || !open {
                    pictures.push(Vec::new());
                    open = true;
                }
                if let Some(picture) = pictures.last_mut() {
                    picture.push(unit);
                }
            }
            _ => {}
        }
    }
    let units = pictures
        .iter()
        .enumerate()
        .map(|(i, units)| {
            let keyframe = units.iter().any(|u| (16..=21).contains(&((u[0] >> 1) & 0x3f)));
            (Duration::from_millis(40 * i as u64), keyframe, nal::to_length_prefixed(units.iter().copied()))
        })
        .collect();
    (units, sets)
}

/// WHIP with H.265: the answer takes it when asked for (`codec=hevc`), and the stream reaches a
/// WHEP player (the same pictures), HTTP-FLV, the DVR MP4 and HLS as HEVC at the clip's size,
/// HTTP-FLV and the MP4 with every frame.
#[test]
fn whip_h265_reaches_whep_flv_dvr_and_hls() {
    let dir = temp_dir("rtc_h265_whip");
    let (api, udp, ts, http) = (free_port(), free_udp_port(), free_udp_port(), free_port());
    let srs = run_graph(&dir, &graph(&dir, api, udp, ts, http), &[api, http]);
    let stop = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(false));
    let player = {
        let stop = stop.clone();
        std::thread::spawn(move || flv_video(http, "/live/hevc.flv", &stop))
    };
    let (video, parameter_sets) = hevc_clip(&dir);
    assert_eq!(video.len(), CLIP_FRAMES);
    assert_eq!(parameter_sets.len(), 3, "vps, sps, pps");
    let clip: Vec<Bytes> = video.iter().map(|(_, _, data)| data.clone()).collect();
    let media = whip::Media { video, parameter_sets, audio: Vec::new() };
    // A WHEP player offering only H.265, there before the publisher.
    let whep_player = std::thread::spawn(move || {
        whep::play(
            api,
            "/rtc/v1/whep/?app=live&stream=hevc",
            &[Codec::H265],
            usize::MAX,
            Duration::from_secs(6),
        )
    });
    std::thread::sleep(Duration::from_millis(300));
    let plan = whip::Plan { video_delay: Duration::ZERO, audio_delay: Duration::ZERO, report_every: None };
    let path = "/rtc/v1/whip/?app=live&stream=hevc&codec=hevc";
    let (sent, location) =
        whip::publish_video(api, path, &media, &plan, Codec::H265, &[Codec::H264, Codec::H265])
            .unwrap_or_else(|e| panic!("whip publish: {e}\n{}", srs.log()));
    assert!(sent.video_packets as usize >= CLIP_FRAMES, "{sent:?}");
    let _ = common::http_exchange(api, "DELETE", &location, &[], b"");
    stop.store(true, std::sync::atomic::Ordering::Relaxed);
    let (size, frames) = player.join().expect("http-flv player");
    assert_eq!(size, Some((320, 240)), "the hvc1 sequence header's picture size");
    assert_eq!(frames, CLIP_FRAMES, "hvc1 coded frames over http-flv");
    let mp4 = dir.join("dvr/live/hevc.mp4");
    let info = wait_for(15, "the dvr mp4", || {
        let streams = mp4.exists().then(|| probe(mp4.to_str().expect("path")))?;
        streams.into_iter().find(|s| s.codec == "hevc" && s.frames as usize >= CLIP_FRAMES)
    });
    assert_eq!((info.width, info.height), (320, 240), "{info:?}");
    assert_eq!(info.frames as usize, CLIP_FRAMES, "every frame sent is recorded");
    // WHIP → WHEP: the player's pictures are the clip's, byte for byte, from a keyframe on.
    let received = whep_player.join().expect("whep thread").unwrap_or_else(|e| panic!("whep play: {e:?}"));
    assert!(received.answer.contains("H265/90000"), "{}", received.answer);
    let (sets, pictures) = rebuild(received.video);
    assert_eq!(sets.len(), 3, "vps, sps and pps came");
    assert!(
        pictures.len() >= CLIP_FRAMES / 2 && pictures[0].0,
        "{} pictures, first a keyframe",
        pictures.len()
    );
    let first =
        clip.iter().position(|c| *c == pictures[0].1).expect("the first picture is one of the clip's");
    let got: Vec<&Bytes> = pictures.iter().map(|(_, data)| data).collect();
    let expected: Vec<&Bytes> = clip[first..].iter().take(got.len()).collect();
    assert_eq!(got, expected, "pictures from clip frame {first} on");
    let segment = std::fs::read_dir(dir.join("hls/live"))
        .expect("hls dir")
        .flatten()
        .map(|e| e.path())
        .find(|p| p.extension().is_some_and(|x| x == "ts"))
        .expect("an hls segment");
    let hls = probe(segment.to_str().expect("path"));
    let video =
        hls.iter().find(|s| s.codec == "hevc").unwrap_or_else(|| panic!("hevc in {segment:?}: {hls:?}"));
    assert_eq!((video.width, video.height), (320, 240));
    assert!(video.frames > 10, "{video:?}");
    assert!(srs.log().contains("webrtc publish video codec") && srs.log().contains("H265"), "{}", srs.log());
}

/// An H.265 stream from ffmpeg over MPEG-TS/UDP (libx265 with its B-frames) plays over WHEP with
/// H.265: its B-frames left out (`keep_bframe` off), the pictures decode at the stream's size; and
/// a player that offers only H.264 is refused with the reason.
#[test]
fn h265_from_ts_plays_over_whep() {
    let dir = temp_dir("rtc_h265_whep");
    let (api, udp, ts, http) = (free_port(), free_udp_port(), free_udp_port(), free_port());
    let srs = run_graph(&dir, &graph(&dir, api, udp, ts, http), &[api]);
    let target = format!("udp://127.0.0.1:{ts}?pkt_size=1316");
    let _ffmpeg = common::spawn_ffmpeg(&[
        "-re",
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=25",
        "-t",
        "20",
        "-c:v",
        "libx265",
        "-pix_fmt",
        "yuv420p",
        "-x265-params",
        X265_BFRAMES_PARAMS,
        "-f",
        "mpegts",
        &target,
    ]);
    // The stream is described as H.265 before players come (the answer follows the stream).
    wait_for(15, "the ts stream described as h.265", || {
        let streams = common::api_get(api, "/api/v1/streams");
        let list = streams["streams"].as_array()?.clone();
        list.into_iter().find(|s| s["name"] == "tshevc" && s["video"]["codec"] == "H265").map(|_| ())
    });
    let path = "/rtc/v1/whep/?app=live&stream=tshevc";
    let refused = whep::play(api, path, &[Codec::H264], 1, Duration::from_secs(5))
        .expect_err("an h.264-only player of an h.265 stream is refused");
    assert_eq!(refused.0, 400, "{refused:?}");
    assert!(refused.1.contains("H.265"), "the reason names the codec: {}", refused.1);

    let received = whep::play(api, path, &[Codec::H265, Codec::H264], 120, Duration::from_secs(15))
        .unwrap_or_else(|e| panic!("whep play: {e:?}\n{}", srs.log()));
    assert!(received.answer.contains("H265/90000"), "the answer takes h.265:\n{}", received.answer);
    let packet_count = received.video.len();
    let (sets, rebuilt) = rebuild(received.video);
    let mut annexb = Vec::new();
    for (keyframe, data) in &rebuilt {
        let units: Vec<&[u8]> = nal::length_prefixed(data, 4).map(|u| u.expect("nal")).collect();
        if *keyframe {
            annexb.extend_from_slice(&nal::to_annexb(sets.iter().map(|s| s.as_ref())));
        }
        annexb.extend_from_slice(&nal::to_annexb(units));
    }
    let pictures = rebuilt.len();
    let extra_bits = sets.get(2).and_then(|pps| h265_filter::extra_slice_header_bits(pps)).unwrap_or(0);
    let b_frames = rebuilt.iter().filter(|(_, data)| h265_filter::is_bframe(data, extra_bits)).count();
    assert_eq!(b_frames, 0, "B-frames reached the WebRTC player");
    eprintln!("whep h.265: {packets} rtp packets, {pictures} pictures rebuilt", packets = packet_count);
    assert_eq!(sets.len(), 3, "vps, sps and pps came");
    assert!(pictures > 25, "{pictures} pictures rebuilt");
    let file = dir.join("whep.hevc");
    std::fs::write(&file, &annexb).expect("write annex-b");
    let streams = common::probe_with(&["-f", "hevc"], file.to_str().expect("path"));
    let video = streams.first().expect("a video stream");
    assert_eq!((video.codec.as_str(), video.width, video.height), ("hevc", 320, 240), "{video:?}");
    assert!(video.frames as usize + 2 >= pictures && video.frames > 25, "{video:?}, {pictures} pictures");
}

/// A WHEP player's video put back together by our depacketizer: the last parameter sets (VPS,
/// SPS, PPS) and the pictures (keyframe, length-prefixed NAL units).
fn rebuild(packets: Vec<whep::VideoPacket>) -> (Vec<Bytes>, Vec<(bool, Bytes)>) {
    let mut depacketizer = H265Depacketizer::new();
    let mut events = Vec::new();
    for (sequence, timestamp, marker, payload) in packets {
        depacketizer.push(sequence, timestamp, marker, payload, &mut events);
    }
    depacketizer.flush(&mut events);
    let (mut sets, mut pictures) = (Vec::new(), Vec::new());
    for event in events {
        match event {
            H265Event::ParameterSets { vps, sps, pps } => sets = vec![vps, sps, pps],
            H265Event::AccessUnit { keyframe, data, .. } => pictures.push((keyframe, data)),
            H265Event::NeedKeyframe | H265Event::Damaged(_) => {}
        }
    }
    (sets, pictures)
}

/// An HTTP-FLV player of `path` until `stop` is set and nothing more comes for 300 ms (or 30 s):
/// the picture size of its HEVC sequence header and the number of HEVC coded-frame tags
/// (Enhanced RTMP `hvc1`; the ffprobe of this machine, 5.1, does not read them).
fn flv_video(port: u16, path: &str, stop: &std::sync::atomic::AtomicBool) -> (Option<(u32, u32)>, usize) {
    use srs::codec::flv::{self, TagType, VideoCodec, VideoPacketKind, VideoTagHeader};
    use std::io::{Read, Write};
    let Ok(mut socket) = std::net::TcpStream::connect(("127.0.0.1", port)) else { return (None, 0) };
    let _ = socket.set_read_timeout(Some(Duration::from_millis(300)));
    if socket.write_all(format!("GET {path} HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n").as_bytes()).is_err() {
        return (None, 0);
    }
    let started = std::time::Instant::now();
    let (mut data, mut buffer) = (Vec::new(), [0u8; 4096]);
    while started.elapsed() < Duration::from_secs(30) {
        match socket.read(&mut buffer) {
            Ok(0) => break,
            Ok(n) => data.extend_from_slice(&buffer[..n]),
            Err(_) if stop.load(std::sync::atomic::Ordering::Relaxed) => break,
            Err(_) => {}
        }
    }
    let Some(head_end) = data.windows(4).position(|w| w == b"\r\n\r\n") else { return (None, 0) };
    let (tags, _) = flv::read_all(&data[head_end + 4..]);
    let (mut size, mut frames) = (None, 0);
    for tag in tags.iter().filter(|t| t.tag_type == TagType::Video) {
        let Ok(header) = VideoTagHeader::parse(&tag.body) else { continue };
        if header.codec != VideoCodec::H265 {
            continue;
        }
        match header.packet {
            VideoPacketKind::SequenceHeader => {
                let config = srs::codec::hevc::HevcConfig::parse(&tag.body[header.header_len..]).ok();
                let sps = config
                    .as_ref()
                    .and_then(|c| c.sps.first())
                    .and_then(|s| srs::codec::hevc::parse_sps(s).ok());
                size = sps.map(|sps| (sps.width, sps.height));
            }
            VideoPacketKind::CodedFrames => frames += 1,
            _ => {}
        }
    }
    (size, frames)
}
