// A small inline SVG chart of wall time against active compute time.

import { html, ms } from '/ui/format.js';

const MIN_W = 300;
const MAX_W = 1400;
const H = 190;
const PAD = { l: 54, r: 12, t: 12, b: 30 };

/**
 * `samples`: [{ wall, active }] in milliseconds, wall ascending. The x axis
 * is the execution's elapsed (wall) time; both lines share the y axis, so a
 * wait shows as the wall line climbing while the active line stays flat.
 * `width` is the panel's width in CSS pixels: the drawing is laid out for it
 * (one user unit per pixel), so the chart fills the panel and its text
 * keeps its size.
 */
export function meteringChart(samples, width) {
  const W = Math.min(MAX_W, Math.max(MIN_W, Math.floor((width || 0) / 10) * 10 || 360));
  const pts = samples.length ? samples : [{ wall: 0, active: 0 }];
  const maxX = Math.max(1, ...pts.map((p) => p.wall));
  const maxY = Math.max(1, ...pts.map((p) => Math.max(p.wall, p.active)));
  const iw = W - PAD.l - PAD.r;
  const ih = H - PAD.t - PAD.b;
  const x = (v) => (PAD.l + (v / maxX) * iw).toFixed(1);
  const y = (v) => (PAD.t + ih - (v / maxY) * ih).toFixed(1);
  const line = (key) => pts.map((p) => `${x(p.wall)},${y(p[key])}`).join(' ');
  const last = pts[pts.length - 1];
  const ticks = [0, 0.5, 1].map((f) => f * maxY);
  const activeLabelY = Math.min(Number(y(last.active)) - 6, PAD.t + ih - 4);
  // The wall label sits left of the middle of its (rising) line, the active
  // label just above the end of its (flat) line: neither crosses a line.
  const midX = Number(x(maxX / 2));
  const midY = Number(y(maxX / 2));
  return html`<svg class="chart" viewBox="0 0 ${W} ${H}" role="img" aria-labelledby="chart-title chart-desc" data-testid="metering-chart" data-samples="${pts.length}">
  <title id="chart-title">Wall time and active compute time</title>
  <desc id="chart-desc">After ${ms(last.wall)} of wall time the execution has used ${ms(last.active)} of active compute.</desc>
  ${ticks.map(
    (t) => html`<line class="gridline" x1="${PAD.l}" x2="${W - PAD.r}" y1="${y(t)}" y2="${y(t)}"></line>
  <text class="tick" x="${PAD.l - 6}" y="${Number(y(t)) + 4}" text-anchor="end">${ms(t)}</text>`,
  )}
  <line class="axis" x1="${PAD.l}" x2="${W - PAD.r}" y1="${PAD.t + ih}" y2="${PAD.t + ih}"></line>
  <text class="tick" x="${PAD.l}" y="${H - 10}" text-anchor="start">0</text>
  <text class="tick" x="${W - PAD.r}" y="${H - 10}" text-anchor="end">${ms(maxX)} elapsed</text>
  <polyline class="wall" points="${line('wall')}"></polyline>
  <polyline class="active" points="${line('active')}"></polyline>
  ${pts.map((p) => html`<rect class="mark-active" x="${Number(x(p.wall)) - 2}" y="${Number(y(p.active)) - 2}" width="4" height="4"></rect>`)}
  <text class="label wall-label" x="${Math.max(midX - 6, PAD.l + 70)}" y="${Math.max(midY - 8, PAD.t + 10)}" text-anchor="end">wall ${ms(last.wall)}</text>
  <text class="label active-label" x="${Number(x(last.wall)) - 4}" y="${activeLabelY}" text-anchor="end">active ${ms(last.active)}</text>
</svg>`;
}
