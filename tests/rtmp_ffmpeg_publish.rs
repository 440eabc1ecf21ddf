//! Real clients against `ServerSession`: ffmpeg publishes H.264 + AAC over a loopback socket (its native
//! RTMP client uses the digest handshake), then ffmpeg plays the recorded messages back, which makes
//! it verify our complex-handshake S1 digest and S2 signature.
//!
//! The socket loop here is the smallest possible host: it is test scaffolding, not the server glue.

use std::io::{ErrorKind, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use srs::codec::rtmp::reply::{strip_set_data_frame, DEFAULT_STREAM_ID};
use srs::codec::rtmp::{
    encode_message, HandshakeKind, MediaMessage, MediaMessageKind, ServerConfig, ServerEvent, ServerSession,
};

/// Whole-test deadline, so a hung ffmpeg fails the test instead of blocking CI.
const DEADLINE: Duration = Duration::from_secs(60);

fn spawn_ffmpeg(arguments: &[&str]) -> Child {
    Command::new("ffmpeg")
        .args(["-hide_banner", "-nostdin", "-loglevel"])
        .arg(std::env::var("RTMP_TEST_FFMPEG_LOGLEVEL").unwrap_or_else(|_| "error".to_owned()))
        .args(arguments)
        .stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("ffmpeg must be installed (scripts/install-test-deps)")
}

fn accept(listener: &TcpListener) -> TcpStream {
    listener.set_nonblocking(true).unwrap();
    let started = Instant::now();
    loop {
        match listener.accept() {
            Ok((socket, _)) => {
                socket.set_nonblocking(false).unwrap();
                socket.set_read_timeout(Some(Duration::from_millis(200))).unwrap();
                return socket;
            }
            Err(error) if error.kind() == ErrorKind::WouldBlock && started.elapsed() < DEADLINE => {
                std::thread::sleep(Duration::from_millis(20));
            }
            Err(error) => panic!("no connection from ffmpeg: {error}"),
        }
    }
}

/// Writes what the session queued; a peer that already hung up (ffmpeg exits right after its last
/// command) only loses our final replies.
fn flush(session: &mut ServerSession, socket: &mut TcpStream) {
    while let Some(bytes) = session.poll_output() {
        if let Err(error) = socket.write_all(&bytes) {
            assert!(
                matches!(error.kind(), ErrorKind::BrokenPipe | ErrorKind::ConnectionReset),
                "write failed: {error}"
            );
        }
    }
}

/// Reads until the peer closes, feeding the session and handing each event to `on_event`.
fn serve(
    socket: &mut TcpStream,
    session: &mut ServerSession,
    mut on_event: impl FnMut(&mut ServerSession, ServerEvent),
) {
    let started = Instant::now();
    let mut buffer = vec![0u8; 64 * 1024];
    while started.elapsed() < DEADLINE {
        let n_read = match socket.read(&mut buffer) {
            Ok(0) => return,
            Ok(n_read) => n_read,
            Err(error) if matches!(error.kind(), ErrorKind::WouldBlock | ErrorKind::TimedOut) => 0,
            Err(error) if error.kind() == ErrorKind::ConnectionReset => return,
            Err(error) => panic!("read failed: {error}"),
        };
        session.handle_input(&buffer[..n_read]).expect("ffmpeg's bytes must parse");
        flush(session, socket);
        while let Some(event) = session.poll_event() {
            on_event(session, event);
        }
        flush(session, socket);
    }
    panic!("ffmpeg did not finish within {DEADLINE:?}");
}

fn wait(mut child: Child) {
    let started = Instant::now();
    loop {
        if let Some(status) = child.try_wait().unwrap() {
            assert!(status.success(), "ffmpeg failed: {status}");
            return;
        }
        if started.elapsed() > DEADLINE {
            let _ = child.kill();
            panic!("ffmpeg hung");
        }
        std::thread::sleep(Duration::from_millis(20));
    }
}

fn assert_monotonic(media: &[MediaMessage], kind: MediaMessageKind) {
    let timestamps: Vec<u32> = media.iter().filter(|m| m.kind == kind).map(|m| m.timestamp).collect();
    assert!(
        timestamps.windows(2).all(|pair| pair[0] <= pair[1]),
        "{kind:?} timestamps go back: {timestamps:?}"
    );
}

/// Publishes 3 s of test pattern and sine with ffmpeg; returns the session and every media message.
fn record_ffmpeg_publish() -> (ServerSession, Vec<(String, String)>, Vec<MediaMessage>) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("rtmp://127.0.0.1:{}/live/livestream", listener.local_addr().unwrap().port());
    let ffmpeg = spawn_ffmpeg(&[
        "-re",
        "-f",
        "lavfi",
        "-i",
        "testsrc=size=320x240:rate=25",
        "-f",
        "lavfi",
        "-i",
        "sine",
        "-t",
        "3",
        "-c:v",
        "libx264",
        "-g",
        "25",
        "-c:a",
        "aac",
        "-f",
        "flv",
        &url,
    ]);
    let mut socket = accept(&listener);
    let mut session = ServerSession::new(ServerConfig::default());
    let mut names = Vec::new();
    let mut media = Vec::new();
    serve(&mut socket, &mut session, |session, event| match event {
        ServerEvent::Connect(connect) => names.push(("connect app".to_owned(), connect.app)),
        ServerEvent::Publish(publish) => {
            names.push(("app".to_owned(), publish.request.app.clone()));
            names.push(("stream".to_owned(), publish.request.stream.clone()));
            session.accept_publish().unwrap();
        }
        ServerEvent::Media(message) => media.push(message),
        _ => {}
    });
    wait(ffmpeg);
    (session, names, media)
}

#[test]
fn ffmpeg_publishes_h264_and_aac_then_plays_it_back() {
    let (session, names, media) = record_ffmpeg_publish();
    assert_eq!(
        session.handshake_kind().map(|k| matches!(k, HandshakeKind::Complex(_))),
        Some(true),
        "ffmpeg sends a digest C1"
    );
    assert!(names.contains(&("app".to_owned(), "live".to_owned())), "{names:?}");
    assert!(names.contains(&("stream".to_owned(), "livestream".to_owned())), "{names:?}");

    let video: Vec<&MediaMessage> = media.iter().filter(|m| m.kind == MediaMessageKind::Video).collect();
    let audio: Vec<&MediaMessage> = media.iter().filter(|m| m.kind == MediaMessageKind::Audio).collect();
    assert_eq!(&video[0].payload[..2], &[0x17, 0x00], "AVC sequence header first");
    assert_eq!(&audio[0].payload[..2], &[0xaf, 0x00], "AAC sequence header first");
    // AVC packet type 1 is a coded frame; 0 is the sequence header and 2 the end-of-sequence tag
    // ffmpeg's FLV muxer writes when it stops.
    let n_video_frames = video.iter().filter(|m| m.payload.get(1) == Some(&1)).count();
    assert_eq!(video.last().map(|m| m.payload[1]), Some(2), "ffmpeg ends H.264 with an end-of-sequence tag");
    assert!((72..=78).contains(&n_video_frames), "{n_video_frames} video frames for 3 s at 25 fps");
    assert!(audio.len() > 100, "{} audio messages for 3 s of 44.1 kHz AAC", audio.len());
    assert_monotonic(&media, MediaMessageKind::Video);
    assert_monotonic(&media, MediaMessageKind::Audio);
    assert!(media.iter().any(|m| m.kind == MediaMessageKind::Data), "metadata arrives as a data message");

    play_back_to_ffmpeg(&media, n_video_frames);
}

/// Serves the recorded messages to an ffmpeg player (which checks our complex handshake signatures),
/// then checks with ffprobe that every video frame made it into its output file.
fn play_back_to_ffmpeg(media: &[MediaMessage], n_video_frames: usize) {
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let url = format!("rtmp://127.0.0.1:{}/live/livestream", listener.local_addr().unwrap().port());
    let output = std::env::temp_dir().join(format!("rtmp_ffmpeg_play_{}.flv", std::process::id()));
    let output_name = output.to_str().unwrap().to_owned();
    let ffmpeg = spawn_ffmpeg(&["-i", &url, "-c", "copy", "-f", "flv", "-y", &output_name]);
    let mut socket = accept(&listener);
    let mut session = ServerSession::new(ServerConfig::default());
    let mut played = false;
    let mut writer = socket.try_clone().unwrap();
    serve(&mut socket, &mut session, |session, event| {
        if let ServerEvent::Play(play) = event {
            assert_eq!(play.request.stream, "livestream");
            session.accept_play().unwrap();
            flush(session, &mut writer);
            let chunk_size = session.out_chunk_size();
            for message in media {
                let payload = match message.kind {
                    MediaMessageKind::Data => strip_set_data_frame(&message.payload),
                    _ => message.payload.clone(),
                };
                let message = MediaMessage { payload, ..message.clone() };
                let bytes = encode_message(
                    &message.to_message(DEFAULT_STREAM_ID),
                    chunk_size,
                    message.kind.chunk_stream_id(),
                );
                writer.write_all(&bytes).unwrap();
            }
            session.send_stream_eof();
            flush(session, &mut writer);
            writer.shutdown(std::net::Shutdown::Write).unwrap();
            played = true;
        }
    });
    wait(ffmpeg);
    assert!(played, "ffmpeg never sent play");
    let probe = Command::new("ffprobe")
        .args([
            "-v",
            "error",
            "-select_streams",
            "v",
            "-count_packets",
            "-show_entries",
            "stream=codec_name,nb_read_packets",
        ])
        .args(["-of", "csv=p=0", &output_name])
        .output()
        .unwrap();
    let _ = std::fs::remove_file(&output);
    let report = String::from_utf8_lossy(&probe.stdout).trim().to_owned();
    assert_eq!(report, format!("h264,{n_video_frames}"), "ffprobe of what ffmpeg played");
}
