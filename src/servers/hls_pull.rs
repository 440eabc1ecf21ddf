//! Pulling an HLS stream over HTTP, used by `Ingest`: the playlist is fetched (a master playlist's
//! highest variant within the ingest's `hls_max_bandwidth` is taken), then its segments in order, each body handed on as it
//! arrives; a live playlist is reloaded every half target duration for new segments.
//!
//! The caller drives it (`next`), so a caller that paces a VOD stream in real time also paces
//! the fetching: nothing is read ahead of what it takes. Where to start follows RFC 8216 §6.3.3:
//! a live stream three segments from its end (or after the segment an earlier pull read last), a
//! VOD stream at its first segment. A live playlist
//! whose sequence numbers go back (the source restarted) is joined again from its end, one that
//! moved past us (we fell behind) is joined at its first segment, a segment gone (404) is skipped.
//! What a peer controls is bounded: playlists by `codec::hls::MAX_PLAYLIST_BYTES`, segments by
//! `MAX_SEGMENT_BYTES`, silence by the caller's time limit, a live playlist that stops growing
//! by `STALE_TARGETS` target durations.

use std::collections::VecDeque;
use std::time::Duration;

use bytes::Bytes;
use tokio::time::Instant;

use super::http_pull::{HttpBody, HttpClient, HttpPullError};
use crate::codec::hls::{
    choose_variant, resolve_uri, MediaPlaylistText, Playlist, PlaylistError, SegmentEntry, MAX_PLAYLIST_BYTES,
};

impl HlsPullError {
    /// For HLS we do not read ourselves but FFmpeg does: whether the playlist is VOD.
    pub fn not_native(&self) -> Option<bool> {
        match self {
            HlsPullError::Fmp4 { vod, .. } | HlsPullError::Unreadable { vod, .. } => Some(*vod),
            _ => None,
        }
    }
}

/// Largest segment read.
pub const MAX_SEGMENT_BYTES: u64 = 256 << 20;
/// A live playlist without a new segment for this many target durations has stopped.
const STALE_TARGETS: u32 = 4;
/// Least time between two reloads of a live playlist.
const MIN_RELOAD: Duration = Duration::from_millis(100);
/// Where a live stream is joined: this many segments from the end.
const LIVE_START_SEGMENTS: usize = 3;

#[derive(Debug, thiserror::Error)]
pub enum HlsPullError {
    #[error("{url}: {source}")]
    Http { url: String, source: HttpPullError },
    #[error("{url}: {source}")]
    Playlist { url: String, source: PlaylistError },
    #[error("{0}: the variant is a master playlist too")]
    NestedMaster(String),
    #[error("{url}: fragmented MP4 segments (EXT-X-MAP) are not supported, only MPEG-TS")]
    Fmp4 { url: String, vod: bool },
    #[error("{url}: segment {sequence} is {why}, which is not supported")]
    Unreadable { url: String, sequence: u64, why: &'static str, vod: bool },
    #[error("{0}: a segment larger than {MAX_SEGMENT_BYTES} bytes")]
    SegmentTooLarge(String),
    #[error("{url}: no data for {limit:?}")]
    Idle { url: String, limit: Duration },
    #[error("{url}: no new segment for {waited:?}")]
    Stale { url: String, waited: Duration },
}

/// What `next` gives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum HlsChunk {
    /// A segment starts; with `discontinuity` its timestamps need not follow the previous ones.
    Segment { sequence: u64, discontinuity: bool },
    /// The next bytes of the current segment.
    Data(Bytes),
}

/// One HLS pull: a media playlist and the segments still to read.
pub struct HlsPull {
    url: String,
    limit: Duration,
    vod: bool,
    ended: bool,
    target: Duration,
    queue: VecDeque<SegmentEntry>,
    /// The first sequence number not queued yet.
    next_sequence: Option<u64>,
    last_reload: Instant,
    last_growth: Instant,
    /// The segment being read: its URL and bytes so far.
    body: Option<(String, HttpBody, u64)>,
    /// One kept-alive connection for the playlist reloads and the segments.
    client: HttpClient,
}

impl HlsPull {
    /// Fetches the playlist at `url` (each HTTP step answering within `limit`); of a master
    /// playlist, the highest variant within `max_bandwidth` (0: the highest). `resume_after`:
    /// the last segment an earlier pull of the same live stream read, so a reconnect goes on
    /// after it (and a playlist that has not moved since gives nothing again).
    pub async fn open(
        url: &str,
        limit: Duration,
        resume_after: Option<u64>,
        max_bandwidth: u64,
    ) -> Result<HlsPull, HlsPullError> {
        let mut client = HttpClient::default();
        let (mut playlist, mut url) = fetch(&mut client, url, limit).await?;
        if let Playlist::Master(variants) = &playlist {
            let Some(chosen) = choose_variant(variants, max_bandwidth) else {
                return Err(HlsPullError::NestedMaster(url));
            };
            tracing::info!(%url, variant = %chosen.uri, bandwidth = chosen.bandwidth, max_bandwidth, "hls pull takes a variant");
            (playlist, url) = fetch(&mut client, &resolve_uri(&url, &chosen.uri), limit).await?;
        }
        let Playlist::Media(media) = playlist else { return Err(HlsPullError::NestedMaster(url)) };
        if media.has_map {
            return Err(HlsPullError::Fmp4 { url, vod: media.ended });
        }
        let now = Instant::now();
        let mut pull = HlsPull {
            url,
            limit,
            vod: media.ended,
            ended: media.ended,
            target: Duration::ZERO,
            queue: VecDeque::new(),
            next_sequence: if media.ended { None } else { resume_after.map(|last| last.saturating_add(1)) },
            last_reload: now,
            last_growth: now,
            body: None,
            client,
        };
        pull.take(media);
        Ok(pull)
    }

    /// Whether the playlist was complete when opened (paced by its timestamps, looped by the caller).
    pub fn is_vod(&self) -> bool {
        self.vod
    }

    /// The media playlist's URL.
    pub fn url(&self) -> &str {
        &self.url
    }

    /// The next segment start or bytes; `None` once an ended playlist has been read through.
    pub async fn next(&mut self) -> Result<Option<HlsChunk>, HlsPullError> {
        loop {
            if let Some((url, body, read)) = &mut self.body {
                let piece = tokio::time::timeout(self.limit, body.next())
                    .await
                    .map_err(|_| HlsPullError::Idle { url: url.clone(), limit: self.limit })?
                    .map_err(|source| HlsPullError::Http { url: url.clone(), source })?;
                match piece {
                    Some(bytes) => {
                        *read += bytes.len() as u64;
                        if *read > MAX_SEGMENT_BYTES {
                            return Err(HlsPullError::SegmentTooLarge(url.clone()));
                        }
                        return Ok(Some(HlsChunk::Data(bytes)));
                    }
                    None => self.body = None,
                }
                continue;
            }
            if let Some(segment) = self.queue.pop_front() {
                let url = resolve_uri(&self.url, &segment.uri);
                if let Some(why) = segment.unreadable {
                    let (sequence, vod) = (segment.sequence, self.vod);
                    return Err(HlsPullError::Unreadable { url, sequence, why, vod });
                }
                match self.client.get(&url, self.limit).await {
                    Ok(body) => {
                        self.body = Some((url, body, 0));
                        return Ok(Some(HlsChunk::Segment {
                            sequence: segment.sequence,
                            discontinuity: segment.discontinuity,
                        }));
                    }
                    // A live segment can leave the window before we get to it.
                    Err(HttpPullError::Status(hyper::StatusCode::NOT_FOUND)) if !self.vod => {
                        tracing::warn!(%url, "hls pull skips a segment gone from the server");
                        continue;
                    }
                    Err(source) => return Err(HlsPullError::Http { url, source }),
                }
            }
            if self.ended {
                return Ok(None);
            }
            let interval = (self.target / 2).max(MIN_RELOAD);
            tokio::time::sleep_until(self.last_reload + interval).await;
            self.reload().await?;
        }
    }

    async fn reload(&mut self) -> Result<(), HlsPullError> {
        self.last_reload = Instant::now();
        // The URL answered last time: a session's, when the server redirected.
        match fetch(&mut self.client, &self.url, self.limit).await?.0 {
            Playlist::Media(media) => {
                if self.take(media) {
                    self.last_growth = self.last_reload;
                }
            }
            Playlist::Master(_) => return Err(HlsPullError::NestedMaster(self.url.clone())),
        }
        let waited = self.last_reload - self.last_growth;
        if waited > (self.target * STALE_TARGETS).max(Duration::from_secs(3)) {
            return Err(HlsPullError::Stale { url: self.url.clone(), waited });
        }
        Ok(())
    }

    /// Queues the segments of `media` not queued yet; whether there were any.
    fn take(&mut self, media: MediaPlaylistText) -> bool {
        self.target = Duration::from_millis(media.target_duration_ms);
        self.ended = media.ended;
        let (Some(first), Some(last)) = (media.segments.first(), media.segments.last()) else {
            return false;
        };
        let (first, last) = (first.sequence, last.sequence);
        let mut join_at_end = false;
        let next = match self.next_sequence {
            None => {
                join_at_end = !self.vod;
                first
            }
            Some(next) if next > last.saturating_add(1) => {
                tracing::warn!(url = %self.url, expected = next, last, "hls playlist went back: joining again at its end");
                join_at_end = true;
                first
            }
            Some(next) if next < first => {
                tracing::warn!(url = %self.url, skipped = first - next, "hls pull fell behind the playlist's window");
                first
            }
            Some(next) => next,
        };
        let mut fresh: Vec<SegmentEntry> =
            media.segments.into_iter().filter(|s| s.sequence >= next).collect();
        if join_at_end {
            let keep = fresh.len().min(LIVE_START_SEGMENTS);
            fresh.drain(..fresh.len() - keep);
            if self.next_sequence.is_some() {
                if let Some(segment) = fresh.first_mut() {
                    segment.discontinuity = true;
                }
            }
        }
        let gained = !fresh.is_empty();
        if let Some(newest) = fresh.last() {
            self.next_sequence = Some(newest.sequence.saturating_add(1));
        }
        self.queue.extend(fresh);
        gained
    }
}

/// The playlist at `url` and the URL that answered it (after redirects: an HLS server's session).
async fn fetch(
    client: &mut HttpClient,
    url: &str,
    limit: Duration,
) -> Result<(Playlist, String), HlsPullError> {
    let (bytes, answered) = client
        .get_all(url, limit, MAX_PLAYLIST_BYTES)
        .await
        .map_err(|source| HlsPullError::Http { url: url.to_owned(), source })?;
    let playlist =
        Playlist::parse(&bytes).map_err(|source| HlsPullError::Playlist { url: answered.clone(), source })?;
    Ok((playlist, answered))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn playlist(first: u64, count: u64, ended: bool) -> MediaPlaylistText {
        let mut text = format!("#EXTM3U\n#EXT-X-TARGETDURATION:2\n#EXT-X-MEDIA-SEQUENCE:{first}\n");
        for sequence in first..first + count {
            text.push_str(&format!("#EXTINF:2,\ns-{sequence}.ts\n"));
        }
        if ended {
            text.push_str("#EXT-X-ENDLIST\n");
        }
        match Playlist::parse(text.as_bytes()) {
            Ok(Playlist::Media(media)) => media,
            other => panic!("{other:?}"),
        }
    }

    fn pull(vod: bool, resume_after: Option<u64>) -> HlsPull {
        let now = Instant::now();
        HlsPull {
            url: "http://h/live/s.m3u8".into(),
            limit: Duration::from_secs(1),
            vod,
            ended: vod,
            target: Duration::ZERO,
            queue: VecDeque::new(),
            next_sequence: resume_after.map(|last| last + 1),
            last_reload: now,
            last_growth: now,
            body: None,
            client: HttpClient::default(),
        }
    }

    fn queued(pull: &mut HlsPull) -> Vec<(u64, bool)> {
        pull.queue.drain(..).map(|s| (s.sequence, s.discontinuity)).collect()
    }

    #[tokio::test]
    async fn live_joins_three_from_the_end_then_takes_only_new_segments() {
        let mut live = pull(false, None);
        assert!(live.take(playlist(10, 6, false)));
        assert_eq!(queued(&mut live), [(13, false), (14, false), (15, false)]);
        assert_eq!(live.target, Duration::from_secs(2));
        assert!(!live.take(playlist(10, 6, false)), "nothing new");
        assert!(live.take(playlist(12, 5, false)));
        assert_eq!(queued(&mut live), [(16, false)]);
        let mut vod = pull(true, None);
        vod.take(playlist(0, 4, true));
        assert_eq!(queued(&mut vod).len(), 4, "VOD starts at its first segment");
    }

    #[tokio::test]
    async fn a_reconnect_resumes_after_the_last_segment_and_a_playlist_that_went_back_is_joined_at_its_end() {
        let mut same = pull(false, Some(15));
        assert!(!same.take(playlist(10, 6, false)), "a stalled playlist gives nothing again");
        let mut moved = pull(false, Some(13));
        moved.take(playlist(10, 6, false));
        assert_eq!(queued(&mut moved), [(14, false), (15, false)]);
        let mut restarted = pull(false, Some(500));
        restarted.take(playlist(0, 5, false));
        assert_eq!(queued(&mut restarted), [(2, true), (3, false), (4, false)]);
        let mut behind = pull(false, Some(3));
        behind.take(playlist(10, 2, false));
        assert_eq!(queued(&mut behind), [(10, false), (11, false)], "fell behind: the window's first");
    }
}
