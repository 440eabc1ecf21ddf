// One player page for every protocol the server serves, picked by the URL: `.flv`/`.ts` with
// mpegts.js, `.m3u8` with hls.js, `.mpd` with dash.js, `webrtc://` with WHEP. Accepts `?url=`
// and SRS's player parameters (`app`, `stream`, `port`, `schema`, `server`, `vhost`), and shows
// startup time, latency, resolution, frames decoded and dropped, and rebuffers.
'use strict';

const video = document.getElementById('video');
const query = new URLSearchParams(location.search);
const shown = {};
let current = null;

function show(key, value) {
  shown[key] = value;
  const box = document.querySelector(`#stats [data-key="${key}"]`);
  if (box) box.textContent = value;
  document.body.dataset[key] = String(value);
}

function fail(text) {
  document.getElementById('message').textContent = text;
  document.body.dataset.error = text;
}

// The URL to play from SRS's parameters, when `url` is not given.
function urlFromSrsParameters() {
  const stream = query.get('stream');
  if (!stream) return '';
  const host = query.get('server') || location.hostname;
  const app = query.get('app') || 'live';
  const vhost = query.get('vhost');
  const rtc = /rtc_player\.html$/.test(location.pathname) || query.get('schema') === 'webrtc';
  if (rtc) return `webrtc://${host}/${app}/${stream}`;
  const schema = query.get('schema') === 'https' ? 'https' : 'http';
  const port = query.get('port') || location.port;
  const authority = port ? `${host}:${port}` : host;
  const suffix = vhost && vhost !== '__defaultVhost__' ? `?vhost=${encodeURIComponent(vhost)}` : '';
  return `${schema}://${authority}/${app}/${stream}${suffix}`;
}

// Only the schemes a stream can have: a `javascript:` or `data:` URL is refused, not loaded.
function checkUrl(text) {
  let parsed;
  try { parsed = new URL(text, location.href); } catch (e) { return null; }
  if (!['http:', 'https:', 'webrtc:'].includes(parsed.protocol)) return null;
  return parsed;
}

function engineFor(parsed) {
  if (parsed.protocol === 'webrtc:' || parsed.pathname.includes('/whep')) return 'webrtc';
  const path = parsed.pathname.toLowerCase();
  if (path.endsWith('.m3u8')) return 'hls';
  if (path.endsWith('.mpd')) return 'dash';
  if (path.endsWith('.ts')) return 'mpegts';
  return 'flv';
}

function stop() {
  if (!current) return;
  try { current.stop(); } catch (e) { /* the player is going anyway */ }
  current = null;
  video.removeAttribute('src');
  video.srcObject = null;
}

async function apiBase() {
  try { return (await (await fetch('/console/config.json')).json()).api; } catch (e) { return null; }
}

async function play(text) {
  stop();
  fail('');
  const parsed = checkUrl(text);
  if (!parsed) { fail(`not a stream URL: ${text.slice(0, 100)} (http, https or webrtc only)`); return; }
  const url = parsed.toString();
  const engine = engineFor(parsed);
  show('engine', engine);
  show('startup', '–');
  show('rebuffers', 0);
  const started = performance.now();
  let playing = false;
  video.onplaying = () => {
    if (!playing) show('startup', `${Math.round(performance.now() - started)} ms`);
    playing = true;
  };
  video.onwaiting = () => { if (playing) show('rebuffers', (shown.rebuffers || 0) + 1); };
  if (engine === 'flv' || engine === 'mpegts') {
    if (!window.mpegts || !mpegts.isSupported()) { fail('this browser has no Media Source Extensions'); return; }
    const player = mpegts.createPlayer({ type: engine, isLive: true, url },
      { enableWorker: false, liveBufferLatencyChasing: true, lazyLoad: false });
    player.on(mpegts.Events.ERROR, (type, detail) => fail(`mpegts.js: ${type} ${detail}`));
    player.attachMediaElement(video);
    player.load();
    current = { stop: () => { player.destroy(); }, latency: () => bufferLatency() };
  } else if (engine === 'hls') {
    const hls = new Hls({ lowLatencyMode: document.getElementById('ll').checked || query.get('ll') === '1' });
    hls.on(Hls.Events.ERROR, (_, data) => {
      if (!data.fatal) return;
      fail(`hls.js: ${data.type} ${data.details}`);
      if (data.type === Hls.ErrorTypes.NETWORK_ERROR) hls.startLoad();
      else if (data.type === Hls.ErrorTypes.MEDIA_ERROR) hls.recoverMediaError();
    });
    hls.loadSource(url);
    hls.attachMedia(video);
    current = { stop: () => hls.destroy(), latency: () => hls.latency };
  } else if (engine === 'dash') {
    const player = dashjs.MediaPlayer().create();
    player.initialize(video, url, true);
    player.on(dashjs.MediaPlayer.events.ERROR, (e) => fail(`dash.js: ${JSON.stringify(e.error || e).slice(0, 200)}`));
    current = { stop: () => player.reset(), latency: () => player.getCurrentLiveLatency() };
  } else {
    const endpoint = parsed.protocol === 'webrtc:' ? Whep.endpoint(url, await apiBase(), 'whep') : url;
    try {
      const handle = await Whep.play(video, endpoint);
      current = { stop: () => Whep.stop(handle), rtc: handle.pc, latency: () => null };
    } catch (error) {
      fail(String(error));
      return;
    }
  }
  video.play().catch(() => {});
}

function bufferLatency() {
  const ranges = video.buffered;
  return ranges.length ? ranges.end(ranges.length - 1) - video.currentTime : null;
}

// Live buffers of FLV/TS grow when the tab stalls: keep near the live edge.
function chaseLiveEdge() {
  if (!current || !['flv', 'mpegts'].includes(shown.engine)) return;
  const behind = bufferLatency();
  if (behind !== null && behind > 3) video.currentTime = video.buffered.end(video.buffered.length - 1) - 0.5;
}

async function updateStats() {
  if (video.videoWidth) show('resolution', `${video.videoWidth}x${video.videoHeight}`);
  if (current && current.rtc) {
    const stats = await current.rtc.getStats();
    stats.forEach((report) => {
      if (report.type !== 'inbound-rtp' || report.kind !== 'video') return;
      show('decoded', report.framesDecoded || 0);
      show('dropped', report.framesDropped || 0);
      if (report.jitterBufferEmittedCount) {
        show('latency', `${(report.jitterBufferDelay / report.jitterBufferEmittedCount * 1000).toFixed(0)} ms jitter buffer`);
      }
    });
    return;
  }
  if (video.getVideoPlaybackQuality) {
    const quality = video.getVideoPlaybackQuality();
    show('decoded', quality.totalVideoFrames);
    show('dropped', quality.droppedVideoFrames);
  }
  const latency = current && current.latency ? current.latency() : null;
  if (typeof latency === 'number' && isFinite(latency)) show('latency', `${latency.toFixed(2)} s`);
  chaseLiveEdge();
}

document.getElementById('form').addEventListener('submit', (event) => {
  event.preventDefault();
  const text = document.getElementById('url').value.trim();
  const next = new URL(location.href);
  next.search = new URLSearchParams({ url: text }).toString();
  history.replaceState(null, '', next);
  play(text);
});

const initial = query.get('url') || urlFromSrsParameters();
if (query.get('ll') === '1') document.getElementById('ll').checked = true;
if (initial) {
  document.getElementById('url').value = initial;
  play(initial);
}
setInterval(() => { updateStats().catch(() => {}); }, 500);
