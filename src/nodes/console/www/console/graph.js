// The live graph: the running DAG from /api/v1/graph drawn as SVG, sources on the left, each
// node one column right of its deepest parent, service nodes (no edges) in a row below. Edge
// labels carry the counters the engine keeps; an edge whose frame count moved since the last
// poll is drawn as busy.
'use strict';

const LiveGraph = {
  lastFrames: new Map(),
  BOX_W: 200,
  BOX_H: 44,
  COL: 440,
  ROW: 74,

  layout(graph) {
    const parents = new Map(graph.nodes.map((n) => [n.name, []]));
    for (const e of graph.edges) if (parents.has(e.to)) parents.get(e.to).push(e.from);
    const depth = new Map();
    const depthOf = (name, seen) => {
      if (depth.has(name)) return depth.get(name);
      if (seen.has(name)) return 0; // a cycle cannot pass the checker; stay safe anyway
      seen.add(name);
      const ps = parents.get(name) || [];
      const d = ps.length ? 1 + Math.max(...ps.map((p) => depthOf(p, seen))) : 0;
      depth.set(name, d);
      return d;
    };
    const columns = [];
    const services = [];
    for (const node of graph.nodes) {
      if (node.role === 'service') { services.push(node); continue; }
      const d = depthOf(node.name, new Set());
      (columns[d] = columns[d] || []).push(node);
    }
    const at = new Map();
    let height = 0;
    columns.forEach((column, c) => (column || []).forEach((node, r) => {
      at.set(node.name, { x: 10 + c * this.COL, y: 10 + r * this.ROW });
      height = Math.max(height, 10 + r * this.ROW + this.BOX_H);
    }));
    services.forEach((node, i) => at.set(node.name, { x: 10 + i * (this.BOX_W + 20), y: height + 40 }));
    if (services.length) height += 40 + this.BOX_H;
    const width = Math.max(columns.length * this.COL, services.length * (this.BOX_W + 20)) + 20;
    return { at, width, height: height + 20 };
  },

  svg(tag, attrs, text) {
    const node = document.createElementNS('http://www.w3.org/2000/svg', tag);
    for (const [key, value] of Object.entries(attrs || {})) node.setAttribute(key, value);
    if (text !== undefined) node.textContent = String(text);
    return node;
  },

  short(text, max) { return text.length > max ? text.slice(0, max - 1) + '…' : text; },

  bytes(n) {
    if (n >= 1e9) return (n / 1e9).toFixed(1) + ' GB';
    if (n >= 1e6) return (n / 1e6).toFixed(1) + ' MB';
    if (n >= 1e3) return (n / 1e3).toFixed(1) + ' KB';
    return n + ' B';
  },

  draw(container, graph) {
    const { at, width, height } = this.layout(graph);
    const root = this.svg('svg', { viewBox: `0 0 ${width} ${height}`, width, height, role: 'img' });
    root.appendChild(this.svg('title', {}, 'the running graph'));
    for (const e of graph.edges) {
      const from = at.get(e.from), to = at.get(e.to);
      if (!from || !to) continue;
      const key = `${e.from}\u0000${e.to}`;
      const busy = this.lastFrames.has(key) && e.frames > this.lastFrames.get(key);
      this.lastFrames.set(key, e.frames);
      const group = this.svg('g', {
        class: busy ? 'edge busy' : 'edge', 'data-from': e.from, 'data-to': e.to,
        'data-frames': e.frames, 'data-bytes': e.bytes, 'data-drops': e.drops, 'data-queue': e.queue_depth,
      });
      const x1 = from.x + this.BOX_W, y1 = from.y + this.BOX_H / 2, x2 = to.x, y2 = to.y + this.BOX_H / 2;
      const bend = (x2 - x1) / 2;
      group.appendChild(this.svg('path', { d: `M${x1},${y1} C${x1 + bend},${y1} ${x2 - bend},${y2} ${x2},${y2}` }));
      const label = `${e.frames} fr · ${this.bytes(e.bytes)} · ${e.drops} drop · q ${e.queue_depth}`;
      // Beside its target, where fanned-out edges are apart.
      group.appendChild(this.svg('text', { x: x2 - 8, y: y2 - 6, 'text-anchor': 'end' }, label));
      root.appendChild(group);
    }
    for (const n of graph.nodes) {
      const p = at.get(n.name);
      const group = this.svg('g', { class: `node ${n.role}`, 'data-name': n.name, 'data-kind': n.kind, transform: `translate(${p.x},${p.y})` });
      group.appendChild(this.svg('rect', { width: this.BOX_W, height: this.BOX_H, rx: 6 }));
      group.appendChild(this.svg('title', {}, `${n.name} (${n.kind}): ${n.hubs} hubs, ${n.consumers} players, ${n.skips} skips`));
      group.appendChild(this.svg('text', { x: 8, y: 17, 'font-weight': 600 }, this.short(n.name, 28)));
      const players = n.hubs ? ` · ${n.consumers} players` : '';
      group.appendChild(this.svg('text', { x: 8, y: 34, fill: '#5b6475' }, `${n.kind}${players}`));
      root.appendChild(group);
    }
    container.replaceChildren(root);
  },
};
