/**
 * The post-processing experiments of docs/detection.md: raw RCF scores per series (cached in
 * /tmp/pipemend-nab-raw, one file per forest variant and seed) and the candidate post-processing steps,
 * evaluated with the project's NAB scorer on the tuning half (A), the confirmation half (B) and the
 * whole subset. Run through `bench/nab/tune.ts`. None of these steps is in the product detector: none
 * improved both halves (see the doc).
 */
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';

import { loadNabCorpus } from './corpus';
import { NAB_PROFILES, scoreCorpus, ScoredFile } from './scoring';
import { RandomCutForest, normalTail } from '../../sagemaker/rcf';
import { sharedDataPath } from '../shared-data';

const corpus = loadNabCorpus(sharedDataPath('nab'));
const labels = new Map(corpus.map((s) => [s.name, s.labels]));
type Variant = {
  name: string;
  dims: number;
  shingle: number;
  rows: (v: number[]) => number[][];
  trees?: number;
  sample?: number;
  decay?: number;
};
const variants: Variant[] = [
  { name: 'v', dims: 1, shingle: 1, rows: (v) => v.map((x) => [x]) },
  { name: 's4', dims: 1, shingle: 4, rows: (v) => v.map((x) => [x]) },
  { name: 'v100', dims: 1, shingle: 1, rows: (v) => v.map((x) => [x]), trees: 100 },
  { name: 'v512', dims: 1, shingle: 1, rows: (v) => v.map((x) => [x]), sample: 512 },
  { name: 'vslow', dims: 1, shingle: 1, rows: (v) => v.map((x) => [x]), decay: 1 / 10000 },
  { name: 'vfast', dims: 1, shingle: 1, rows: (v) => v.map((x) => [x]), decay: 1 / 1000 },
  { name: 'vlag', dims: 2, shingle: 1, rows: (v) => v.map((x) => [x]) },
  { name: 'vt', dims: 2, shingle: 1, rows: (v) => v.map((x) => [x]) },
  { name: 'vd', dims: 2, shingle: 1, rows: (v) => v.map((x, i) => [x, x - (v[i - 1] ?? x)]) },
];
export function raw(variant: string, seed: number): Float64Array[] {
  mkdirSync('/tmp/pipemend-nab-raw', { recursive: true });
  const file = `/tmp/pipemend-nab-raw/raw-${variant}-${seed}.json`;
  if (existsSync(file))
    return (JSON.parse(readFileSync(file, 'utf8')) as number[][]).map((a) => Float64Array.from(a));
  const v = variants.find((x) => x.name === variant)!;
  const out = corpus.map((s) => {
    const f = new RandomCutForest({
      dimensions: v.dims,
      numTrees: v.trees ?? 50,
      sampleSize: v.sample ?? 256,
      shingleSize: v.shingle,
      seed,
      ...(v.decay !== undefined ? { timeDecay: v.decay } : {}),
    });
    // vlag: the value and the value one day earlier (the last row at least 24 h before).
    const dayAgo = (i: number): number => {
      const target = s.timestamps[i]! - 86_400_000;
      let lo = 0;
      let hi = i;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (s.timestamps[mid]! <= target) lo = mid + 1;
        else hi = mid;
      }
      return lo - 1;
    };
    if (v.name === 'vlag') return f.scoreAndUpdate(s.values.map((x, i) => [x, s.values[dayAgo(i)] ?? x]));
    const rows =
      v.name === 'vt'
        ? s.values.map((x, i) => [x, (s.timestamps[i]! % 86400000) / 86400000])
        : v.rows(s.values);
    return f.scoreAndUpdate(rows);
  });
  writeFileSync(file, JSON.stringify(out.map((a) => Array.from(a))));
  return out;
}
export interface Post {
  H: number;
  R: number;
  avgDist: boolean;
  L: number;
  S: number;
}
export function likelihood(rawScores: Float64Array, p: Post): Float64Array {
  const n = rawScores.length;
  const out = new Float64Array(n);
  const hist: number[] = [];
  let hs = 0,
    hq = 0,
    rs = 0;
  let started = -1;
  for (let i = 0; i < n; i++) {
    const r = rawScores[i]!;
    if (r === 0 && started < 0) continue;
    if (started < 0) started = i;
    const k = i - started;
    rs += r - (k >= p.R ? rawScores[i - p.R]! : 0);
    const mean = rs / Math.min(k + 1, p.R);
    const x = p.avgDist ? mean : r;
    const filled = hist.length;
    if (filled >= 30) {
      const m = hs / filled;
      const sd = Math.max(Math.sqrt(Math.max(hq / filled - m * m, 0)), 1e-6);
      out[i] = Math.min(1, Math.max(0, Math.log(normalTail((mean - m) / sd)) / Math.log(1e-10)));
    }
    hist.push(x);
    hs += x;
    hq += x * x;
    if (hist.length > p.H) {
      const e = hist.shift()!;
      hs -= e;
      hq -= e * e;
    }
  }
  return out;
}
export function suppress(l: Float64Array, p: Post): Float64Array {
  const out = new Float64Array(l.length);
  let last = -Infinity;
  for (let i = 0; i < l.length; i++) {
    if (i - last <= p.S) continue;
    out[i] = l[i]!;
    if (l[i]! >= p.L) last = i;
  }
  return out;
}
export function evaluate(scores: Float64Array[], subset: Set<string>) {
  const files: ScoredFile[] = [];
  corpus.forEach((s, i) => {
    if (subset.has(s.name))
      files.push({
        name: s.name,
        timestamps: s.timestamps,
        scores: Array.from(scores[i]!),
        windows: s.windows,
      });
  });
  return NAB_PROFILES.map((pr) => scoreCorpus(files, (n) => labels.get(n) ?? 0, pr));
}
// stratified split: alternate within each category
const byCat = new Map<string, string[]>();
for (const s of corpus) {
  const c = s.name.split('/')[0]!;
  byCat.set(c, [...(byCat.get(c) ?? []), s.name]);
}
export const A = new Set<string>(),
  B = new Set<string>(),
  ALL = new Set(corpus.map((s) => s.name));
for (const names of byCat.values()) names.forEach((n, i) => (i % 2 === 0 ? A : B).add(n));
export { corpus };
/** Empirical tail with an exponential extrapolation beyond the top of the history. */
export function empirical(
  rawScores: Float64Array,
  p: Post & { tailFrac?: number; floor?: number },
): Float64Array {
  const n = rawScores.length;
  const out = new Float64Array(n);
  const ring: number[] = [];
  const sorted: number[] = [];
  let rs = 0;
  let started = -1;
  const lower = (x: number) => {
    let lo = 0,
      hi = sorted.length;
    while (lo < hi) {
      const m = (lo + hi) >> 1;
      if (sorted[m]! < x) lo = m + 1;
      else hi = m;
    }
    return lo;
  };
  for (let i = 0; i < n; i++) {
    const r = rawScores[i]!;
    if (r === 0 && started < 0) continue;
    if (started < 0) started = i;
    const k = i - started;
    rs += r - (k >= p.R ? rawScores[i - p.R]! : 0);
    const mean = rs / Math.min(k + 1, p.R);
    const x = p.avgDist ? mean : r;
    const m = sorted.length;
    if (m >= 30) {
      const above = m - lower(mean);
      const top = Math.max(1, Math.floor(m * (p.tailFrac ?? 0.05)));
      const q = sorted[m - top]!;
      let excess = 0;
      for (let j = m - top; j < m; j++) excess += sorted[j]! - q;
      const scale = Math.max(excess / top, 1e-6, (p.floor ?? 0) * q);
      let prob: number;
      if (mean <= q) prob = (above + 1) / (m + 1);
      else prob = (top / (m + 1)) * Math.exp(-(mean - q) / scale);
      out[i] = Math.min(1, Math.max(0, Math.log(prob) / Math.log(1e-10)));
    }
    ring.push(x);
    sorted.splice(lower(x), 0, x);
    if (ring.length > p.H) {
      const e = ring.shift()!;
      sorted.splice(lower(e), 1);
    }
  }
  return out;
}
/** Gate a likelihood by a record test: the raw score must reach f × a decaying maximum of earlier raw scores. */
export function gate(
  rawScores: Float64Array,
  l: Float64Array,
  f: number,
  halfLife: number,
  R = 1,
): Float64Array {
  const out = new Float64Array(l.length);
  const d = Math.pow(0.5, 1 / halfLife);
  let max = 0;
  let rs = 0;
  for (let i = 0; i < l.length; i++) {
    const r = rawScores[i]!;
    rs += r - (i >= R ? rawScores[i - R]! : 0);
    const x = rs / R;
    out[i] = x >= f * max ? l[i]! : l[i]! * 0.5;
    max = Math.max(max * d, x);
  }
  return out;
}
/** Discount recurrences: a peak whose distance to an earlier peak repeats an earlier spacing, and no higher than those. */
export function periodic(
  rawScores: Float64Array,
  l: Float64Array,
  o: { P0: number; tolFrac: number; factor: number; ratio: number; minGap: number; keep: number },
): Float64Array {
  const out = Float64Array.from(l);
  const peaks: { t: number; r: number }[] = [];
  let above = false;
  let inPeriodicRun = false;
  for (let t = 0; t < l.length; t++) {
    const on = l[t]! >= o.P0;
    if (on && above && inPeriodicRun) out[t] = l[t]! * o.factor;
    if (!on) inPeriodicRun = false;
    if (on && !above) {
      const r = rawScores[t]!;
      let periodicHit = false;
      for (let a = peaks.length - 1; a >= 0 && !periodicHit; a--) {
        const p = peaks[a]!;
        const d = t - p.t;
        if (d < o.minGap) continue;
        const tol = Math.max(2, o.tolFrac * d);
        for (let b = a - 1; b >= 0; b--) {
          const q = peaks[b]!;
          const gap = p.t - q.t;
          if (gap > d + tol) break;
          if (Math.abs(gap - d) <= tol && r <= o.ratio * Math.max(p.r, q.r)) {
            periodicHit = true;
            break;
          }
        }
      }
      if (periodicHit) out[t] = l[t]! * o.factor;
      inPeriodicRun = periodicHit;
      peaks.push({ t, r });
      if (peaks.length > o.keep) peaks.shift();
    }
    above = on;
  }
  return out;
}
/** Discount recurrent events: an onset whose raw score at least k earlier onsets within W rows reached (× ratio). */
export function recurrent(
  rawScores: Float64Array,
  l: Float64Array,
  o: { P0: number; W: number; k: number; ratio: number; factor: number; peakRows?: number },
): Float64Array {
  const out = Float64Array.from(l);
  const onsets: { t: number; r: number }[] = [];
  let above = false;
  let discounting = false;
  for (let t = 0; t < l.length; t++) {
    const on = l[t]! >= o.P0;
    if (on && !above) {
      // the onset's magnitude: the max raw over the next few rows is unknown in streaming; use the onset row's.
      const r = rawScores[t]!;
      while (onsets.length && onsets[0]!.t < t - o.W) onsets.shift();
      const similar = onsets.filter((x) => x.r >= o.ratio * r).length;
      discounting = similar >= o.k;
      onsets.push({ t, r });
    }
    if (on && discounting) out[t] = l[t]! * o.factor;
    if (!on) discounting = false;
    above = on;
  }
  return out;
}
/** Discount onsets whose value is not novel: at least k rows of the last W were as far from the median (× ratio), same side. */
export function novelty(
  values: readonly number[],
  l: Float64Array,
  o: { P0: number; W: number; k: number; ratio: number; factor: number },
): Float64Array {
  const out = Float64Array.from(l);
  let above = false;
  let discounting = false;
  for (let t = 0; t < l.length; t++) {
    const on = l[t]! >= o.P0;
    if (on && !above) {
      const lo = Math.max(0, t - o.W);
      const win = values.slice(lo, t);
      if (win.length >= 10) {
        const sorted = [...win].sort((a, b) => a - b);
        const m = sorted[sorted.length >> 1]!;
        const dev = values[t]! - m;
        let c = 0;
        for (const x of win) if (dev >= 0 ? x - m >= o.ratio * dev : x - m <= o.ratio * dev) c++;
        discounting = dev !== 0 && c >= o.k;
      } else discounting = false;
    }
    if (on && discounting) out[t] = l[t]! * o.factor;
    if (!on) discounting = false;
    above = on;
  }
  return out;
}
