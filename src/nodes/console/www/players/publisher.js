// The WHIP publisher: this browser's camera and microphone to `webrtc://host/app/stream`.
'use strict';

const query = new URLSearchParams(location.search);
const input = document.getElementById('url');
let handle = null;
let media = null;

function state(text) {
  document.getElementById('state').textContent = text;
  document.body.dataset.state = text;
}

input.value = query.get('url')
  || `webrtc://${location.hostname}/${query.get('app') || 'live'}/${query.get('stream') || 'livestream'}`;

async function start() {
  document.getElementById('message').textContent = '';
  const url = input.value.trim();
  if (!url.startsWith('webrtc://')) throw new Error('a webrtc://host/app/stream URL');
  const config = await (await fetch('/console/config.json')).json();
  media = await navigator.mediaDevices.getUserMedia({ video: { width: 640, height: 360 }, audio: true });
  document.getElementById('preview').srcObject = media;
  handle = await Whep.publish(media, Whep.endpoint(url, config.api, 'whip'));
  handle.pc.onconnectionstatechange = () => state(handle.pc.connectionState);
  state('offered');
  document.getElementById('play-link').href = '/players/?url=' + encodeURIComponent(url);
}

function stopAll() {
  Whep.stop(handle);
  handle = null;
  if (media) media.getTracks().forEach((t) => t.stop());
  media = null;
  state('stopped');
}

document.getElementById('form').addEventListener('submit', (event) => {
  event.preventDefault();
  start().catch((error) => { document.getElementById('message').textContent = String(error); });
});
document.getElementById('stop').addEventListener('click', stopAll);
