// WHEP and WHIP in a few lines: an SDP offer POSTed to the endpoint, the answer in the body, the
// session's URL in `Location` (DELETE ends it). Used by the player and the publisher pages.
'use strict';

const Whep = {
  // `webrtc://host[:port]/app/stream` (SRS's URL) → the API's WHEP or WHIP endpoint.
  endpoint(url, apiBase, kind) {
    const parsed = new URL(url.replace(/^webrtc:/, 'http:'));
    const parts = parsed.pathname.split('/').filter(Boolean);
    const stream = parts.pop() || 'livestream';
    const app = parts.join('/') || 'live';
    const base = apiBase || `${location.protocol}//${parsed.hostname}:1985`;
    const query = new URLSearchParams({ app, stream });
    for (const [key, value] of parsed.searchParams) query.set(key, value);
    return `${base}/rtc/v1/${kind}/?${query}`;
  },

  async exchange(pc, endpoint) {
    const offer = await pc.createOffer();
    await pc.setLocalDescription(offer);
    const response = await fetch(endpoint, {
      method: 'POST', headers: { 'Content-Type': 'application/sdp' }, body: offer.sdp,
    });
    const text = await response.text();
    if (!response.ok) throw new Error(`${endpoint}: HTTP ${response.status} ${text.slice(0, 200)}`);
    await pc.setRemoteDescription({ type: 'answer', sdp: text });
    const location = response.headers.get('Location');
    return location ? new URL(location, endpoint).toString() : null;
  },

  async play(video, endpoint) {
    const pc = new RTCPeerConnection();
    pc.addTransceiver('video', { direction: 'recvonly' });
    pc.addTransceiver('audio', { direction: 'recvonly' });
    const stream = new MediaStream();
    pc.ontrack = (event) => {
      stream.addTrack(event.track);
      video.srcObject = stream;
    };
    const session = await this.exchange(pc, endpoint);
    return { pc, session };
  },

  async publish(media, endpoint) {
    const pc = new RTCPeerConnection();
    for (const track of media.getTracks()) pc.addTransceiver(track, { direction: 'sendonly' });
    const session = await this.exchange(pc, endpoint);
    return { pc, session };
  },

  stop(handle) {
    if (!handle) return;
    handle.pc.close();
    if (handle.session) fetch(handle.session, { method: 'DELETE' }).catch(() => {});
  },
};
