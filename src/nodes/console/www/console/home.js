// The home page: the server's URLs from /console/config.json, shown as text (never as HTML).
'use strict';

function el(tag, text, attrs) {
  const node = document.createElement(tag);
  if (text !== undefined) node.textContent = text;
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  return node;
}

function copyButton(text) {
  const button = el('button', 'copy', { class: 'copy', type: 'button' });
  button.addEventListener('click', () => navigator.clipboard && navigator.clipboard.writeText(text));
  return button;
}

function urlRow(entry) {
  const row = el('tr');
  const cell = el('td');
  const isWeb = /^https?:/.test(entry.url);
  const link = isWeb && entry.action === 'play'
    ? el('a', entry.url, { href: '/players/?url=' + encodeURIComponent(entry.url), class: 'mono' })
    : el('code', entry.url);
  cell.appendChild(link);
  row.append(cell, el('td', entry.node, { class: 'muted' }));
  const tools = el('td');
  tools.appendChild(copyButton(entry.url));
  row.appendChild(tools);
  return row;
}

function ffmpegLines(publishUrls) {
  const lines = [];
  for (const url of publishUrls) {
    if (url.startsWith('rtmp://')) {
      lines.push(`ffmpeg -re -stream_loop -1 -i input.mp4 -c copy -f flv ${url}`);
    } else if (url.startsWith('srt://')) {
      lines.push(`ffmpeg -re -stream_loop -1 -i input.mp4 -c copy -pes_payload_size 0 -f mpegts '${url}'`);
    } else if (url.startsWith('udp://')) {
      lines.push(`ffmpeg -re -stream_loop -1 -i input.mp4 -c copy -f mpegts ${url}`);
    }
  }
  return lines;
}

async function main() {
  const response = await fetch('/console/config.json');
  const config = await response.json();
  document.getElementById('version').textContent = config.version;
  const publish = config.urls.filter((u) => u.action === 'publish');
  const play = config.urls.filter((u) => u.action === 'play');
  for (const entry of publish) document.querySelector('#publish tbody').appendChild(urlRow(entry));
  for (const entry of play) document.querySelector('#play tbody').appendChild(urlRow(entry));
  const box = document.getElementById('ffmpeg');
  for (const line of ffmpegLines(publish.map((u) => u.url))) {
    const row = el('div', undefined, { class: 'row' });
    row.append(el('code', line), copyButton(line));
    box.appendChild(row);
  }
  const rtmp = publish.find((u) => u.url.startsWith('rtmp://'));
  if (rtmp) document.getElementById('obs-server').textContent = rtmp.url.replace(/\/[^/]*$/, '');
  const api = document.getElementById('api');
  if (config.api) {
    api.textContent = config.api + '/api/v1/summaries';
    api.href = config.api + '/api/v1/summaries';
  } else {
    api.textContent = 'no HttpApi node in this graph';
  }
  document.body.dataset.ready = '1';
}

main().catch((error) => {
  document.querySelector('main').prepend(el('p', 'cannot read /console/config.json: ' + error, { class: 'error' }));
});
