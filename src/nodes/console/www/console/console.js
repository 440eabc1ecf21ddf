// The console: polls the API once a second and redraws summaries, streams, clients, vhosts and
// the live graph. Everything a client or a stream name carries is set as text, never as HTML.
'use strict';

const POLL_MS = 1000;
let previousTotals = null;

function el(tag, text, attrs) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = String(text);
  for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
  return node;
}

function fillTable(id, rows) {
  const body = document.querySelector(`#${id} tbody`);
  body.replaceChildren(...rows);
}

function row(cells, attrs) {
  const tr = el('tr', undefined, attrs);
  for (const cell of cells) tr.appendChild(cell instanceof Node ? cell : el('td', cell));
  return tr;
}

const num = (value) => el('td', value, { class: 'num' });

function humanBytes(n) {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (n >= 1024 && i < units.length - 1) { n /= 1024; i += 1; }
  return `${n.toFixed(i === 0 ? 0 : 1)} ${units[i]}`;
}

function humanSeconds(s) {
  const d = Math.floor(s / 86400), h = Math.floor(s / 3600) % 24, m = Math.floor(s / 60) % 60;
  return d ? `${d}d ${h}h` : h ? `${h}h ${m}m` : m ? `${m}m ${Math.floor(s % 60)}s` : `${Math.floor(s)}s`;
}

function card(label, value, key) {
  const box = el('div', undefined, { class: 'card', 'data-key': key });
  box.append(el('div', label, { class: 'label' }), el('div', value, { class: 'value' }));
  return box;
}

function drawSummary(summary) {
  const self = summary.data.self;
  const system = summary.data.system;
  const now = summary.data.now_ms;
  let kbpsIn = 0, kbpsOut = 0;
  if (previousTotals && now > previousTotals.at) {
    const seconds = (now - previousTotals.at) / 1000;
    kbpsIn = Math.max(0, (system.srs_recv_bytes - previousTotals.recv) * 8 / 1000 / seconds);
    kbpsOut = Math.max(0, (system.srs_send_bytes - previousTotals.send) * 8 / 1000 / seconds);
  }
  previousTotals = { at: now, recv: system.srs_recv_bytes, send: system.srs_send_bytes };
  document.getElementById('version').textContent = self.version;
  document.getElementById('summary').replaceChildren(
    card('CPU', `${(self.cpu_percent * 100).toFixed(1)} %`, 'cpu'),
    card('memory', `${humanBytes(self.mem_kbyte * 1024)} (${(self.mem_percent * 100).toFixed(1)} %)`, 'memory'),
    card('connections', system.conn_srs, 'connections'),
    card('kbps in', kbpsIn.toFixed(0), 'kbps-in'),
    card('kbps out', kbpsOut.toFixed(0), 'kbps-out'),
    card('uptime', humanSeconds(self.srs_uptime), 'uptime'),
    card('load (1 min)', `${system.load_1m.toFixed(2)} / ${system.cpus} cpus`, 'load'),
  );
}

function videoText(video) {
  if (!video) return '';
  const profile = video.profile ? ` ${video.profile}` : '';
  return `${video.codec}${profile} ${video.width}x${video.height}`;
}

function audioText(audio) {
  if (!audio) return '';
  return `${audio.codec} ${audio.sample_rate} Hz ${audio.channel} ch`;
}

function drawStreams(streams) {
  fillTable('streams', streams.map((s) => row([
    el('td', s.url, { class: 'mono' }), s.vhost, videoText(s.video), audioText(s.audio),
    num(s.clients), num(s.frames), num(s.kbps.recv_30s), num(s.kbps.send_30s),
    el('td', s.publish.active ? 'yes' : 'no', { class: s.publish.active ? 'ok' : 'muted' }),
  ], { 'data-stream': s.id })));
}

function drawClients(clients) {
  fillTable('clients', clients.map((c) => {
    const kick = el('button', 'kick', { type: 'button', 'data-kick': c.id });
    kick.addEventListener('click', async () => {
      kick.disabled = true;
      try { await Api.remove(`/api/v1/clients/${encodeURIComponent(c.id)}`); } catch (e) { showError(e); }
      refresh();
    });
    const action = el('td');
    action.appendChild(kick);
    return row([
      el('td', c.id, { class: 'mono' }), c.type, c.ip, el('td', c.url, { class: 'mono' }),
      num(c.alive.toFixed(0)), num(c.kbps.recv_30s), num(c.kbps.send_30s), action,
    ], { 'data-client': c.id });
  }));
}

function drawVhosts(vhosts) {
  fillTable('vhosts', vhosts.map((v) => row([
    v.name, num(v.streams), num(v.clients), num(humanBytes(v.recv_bytes)), num(humanBytes(v.send_bytes)),
  ])));
}

function showError(error) {
  const status = document.getElementById('status');
  status.textContent = String(error);
  status.className = 'error';
}

async function refresh() {
  try {
    const [summary, streams, clients, vhosts, graph] = await Promise.all([
      Api.get('/api/v1/summaries'),
      Api.get('/api/v1/streams?count=100'),
      Api.get('/api/v1/clients?count=100'),
      Api.get('/api/v1/vhosts'),
      Api.get('/api/v1/graph'),
    ]);
    drawSummary(summary);
    drawStreams(streams.streams);
    drawClients(clients.clients);
    drawVhosts(vhosts.vhosts);
    LiveGraph.draw(document.getElementById('graph-view'), graph.graph);
    const status = document.getElementById('status');
    status.textContent = `updated ${new Date().toLocaleTimeString()}`;
    status.className = 'muted';
    document.body.dataset.polls = String(Number(document.body.dataset.polls || 0) + 1);
  } catch (error) {
    showError(error);
  }
}

Api.init()
  .then(() => { refresh(); setInterval(refresh, POLL_MS); })
  .catch(showError);
