/**
 * Anomaly scoring: how unusual is the current window's count against the recent baseline?
 *
 * Method (documented in docs/alerts.md): the baseline is the counts of the previous
 * `baselineWindows` windows (zero-filled, only since the rule started counting the subject).
 * Its centre is the median and its spread the median absolute deviation (MAD) scaled by 1.4826,
 * which matches the standard deviation for normal data but ignores outliers (a past spike does
 * not widen the baseline). Counts are Poisson-like, so the scale never drops below √median (and
 * 1): a perfectly flat baseline of 20 would otherwise make 21 infinitely anomalous.
 * A window is anomalous when all hold: count ≥ minCount (floor), history ≥ minHistoryWindows,
 * z = (count − median) / scale ≥ zThreshold, and count ≥ minRatio × median.
 */
export interface AnomalySettings {
  zThreshold: number;
  minCount: number;
  minRatio: number;
  minHistoryWindows: number;
}

export interface AnomalyScore {
  anomalous: boolean;
  count: number;
  median: number;
  mad: number;
  scale: number;
  z: number;
  history: number;
}

export function median(values: number[]): number {
  if (values.length === 0) return 0;
  const s = [...values].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

export function scoreWindow(count: number, baseline: number[], settings: AnomalySettings): AnomalyScore {
  const m = median(baseline);
  const mad = median(baseline.map((v) => Math.abs(v - m)));
  const scale = Math.max(1.4826 * mad, Math.sqrt(m), 1);
  const z = (count - m) / scale;
  const anomalous =
    baseline.length >= settings.minHistoryWindows &&
    count >= settings.minCount &&
    z >= settings.zThreshold &&
    count >= settings.minRatio * m;
  return { anomalous, count, median: m, mad, scale, z: Math.round(z * 100) / 100, history: baseline.length };
}
