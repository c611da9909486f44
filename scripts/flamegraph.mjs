#!/usr/bin/env node
// A flame graph (SVG) from a V8 CPU profile, such as those the benches write with BENCH_CPU_PROF.
// Usage: node scripts/flamegraph.mjs <file.cpuprofile> [out.svg] [--title "…"]
// Width is time on CPU (idle, program and GC samples left out); frames under 0.2% are dropped.
// Hover a frame for its name, file and share. For interactive viewing open the .cpuprofile in
// Chrome DevTools or speedscope instead.
import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';

const args = process.argv.slice(2);
const titleAt = args.indexOf('--title');
const title = titleAt >= 0 ? args.splice(titleAt, 2)[1] : undefined;
const [input, output = `${input?.replace(/\.cpuprofile$/, '')}.svg`] = args;
if (!input) {
  console.error('usage: node scripts/flamegraph.mjs <file.cpuprofile> [out.svg] [--title "…"]');
  process.exit(2);
}

const profile = JSON.parse(readFileSync(input, 'utf8'));
const nodes = new Map(profile.nodes.map((n) => [n.id, { ...n, self: 0, total: 0 }]));
const parentOf = new Map();
for (const n of profile.nodes) for (const c of n.children ?? []) parentOf.set(c, n.id);
profile.samples.forEach((id, i) => {
  const n = nodes.get(id);
  if (n) n.self += profile.timeDeltas[i] ?? 0;
});
const skipped = new Set(['(idle)', '(program)', '(garbage collector)']);
function total(n) {
  if (skipped.has(n.callFrame.functionName)) return 0;
  n.total = n.self + (n.children ?? []).reduce((s, c) => s + total(nodes.get(c)), 0);
  return n.total;
}
const root = nodes.get(profile.nodes[0].id);
const all = total(root);

const width = 1200;
const rowH = 16;
const minShare = 0.002;
const rects = [];
let depthMax = 0;
function place(n, x, depth) {
  const w = (n.total / all) * width;
  if (n.total / all < minShare) return;
  const cf = n.callFrame;
  const file = cf.url ? path.basename(cf.url.replace(/^file:\/\//, '')) : '';
  const name =
    depth === 0 ? 'all' : `${cf.functionName || '(anonymous)'}${file ? ` ${file}:${cf.lineNumber + 1}` : ''}`;
  rects.push({ x, w, depth, name, share: n.total / all, url: cf.url });
  depthMax = Math.max(depthMax, depth);
  let cx = x;
  for (const c of n.children ?? []) {
    const child = nodes.get(c);
    if (!child.total) continue;
    place(child, cx, depth + 1);
    cx += (child.total / all) * width;
  }
}
place(root, 0, 0);

const esc = (s) =>
  s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
function colour(r) {
  // Beacon's own code warm, dependencies cool, Node internals and native grey.
  const h = [...r.name].reduce((a, ch) => (a * 31 + ch.charCodeAt(0)) >>> 0, 7);
  if (/packages\/(server|sdk)\//.test(r.url)) return `hsl(${20 + (h % 30)},85%,${55 + (h % 15)}%)`;
  if (/node_modules\//.test(r.url)) return `hsl(${190 + (h % 40)},60%,${60 + (h % 15)}%)`;
  return `hsl(0,0%,${70 + (h % 15)}%)`;
}
const top = 30;
const height = top + (depthMax + 1) * rowH + 10;
const body = rects
  .map((r) => {
    const y = height - 10 - (r.depth + 1) * rowH;
    const label = r.w > 40 ? esc(r.name.slice(0, Math.floor(r.w / 6.5))) : '';
    return `<g><title>${esc(r.name)} — ${(r.share * 100).toFixed(1)}%</title><rect x="${r.x.toFixed(1)}" y="${y}" width="${Math.max(r.w - 0.5, 0.5).toFixed(1)}" height="${rowH - 1}" fill="${colour(r)}"/>${label ? `<text x="${(r.x + 3).toFixed(1)}" y="${y + 12}">${label}</text>` : ''}</g>`;
  })
  .join('\n');
const heading = esc(title ?? path.basename(input));
const svg = `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" font-family="monospace" font-size="11">
<title>Flame graph: ${heading}</title>
<rect width="100%" height="100%" fill="#fff"/>
<text x="6" y="18" font-size="14">${heading} — ${(all / 1000).toFixed(0)} ms on CPU (idle, GC and program time left out)</text>
${body}
</svg>
`;
writeFileSync(output, svg);
console.log(`${output}: ${rects.length} frames, ${(all / 1000).toFixed(0)} ms on CPU`);
