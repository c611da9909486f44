/**
 * Hand-written SVG charts: a few hundred bytes each instead of a chart library, which keeps the
 * first load well under budget. Every chart carries an accessible label summarising its data.
 */
export function Sparkline({
  values,
  label,
  width = 96,
  height = 24,
}: {
  values: number[];
  label: string;
  width?: number;
  height?: number;
}) {
  const max = Math.max(1, ...values);
  const n = values.length;
  const bw = n > 0 ? width / n : width;
  return (
    <svg
      className="spark"
      width={width}
      height={height}
      viewBox={`0 0 ${width} ${height}`}
      role="img"
      aria-label={label}
    >
      {values
        .map((v, slot) => ({ v, slot }))
        .map(({ v, slot: i }) => {
          const h = v === 0 ? 1 : Math.max(2, (v / max) * (height - 2));
          return (
            <rect
              key={`bar${i}`}
              x={i * bw + 0.5}
              y={height - h}
              width={Math.max(1, bw - 1)}
              height={h}
              className={v === 0 ? 'bar-zero' : 'bar'}
            />
          );
        })}
    </svg>
  );
}

export interface Point {
  t: string | number;
  v: number | null;
}

/** Bars over time (event volume, availability). */
export function BarChart({
  points,
  label,
  height = 120,
  unit = '',
  max: fixedMax,
  colorFor,
}: {
  points: Point[];
  label: string;
  height?: number;
  unit?: string;
  max?: number;
  colorFor?: (v: number) => string;
}) {
  const width = 600;
  const max = fixedMax ?? Math.max(1, ...points.map((p) => p.v ?? 0));
  const bw = points.length ? width / points.length : width;
  const total = points.reduce((s, p) => s + (p.v ?? 0), 0);
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${width} ${height}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={`${label}: ${points.length} buckets, total ${Math.round(total)}${unit}`}
      >
        <line x1="0" x2={width} y1={height - 0.5} y2={height - 0.5} className="axis" />
        {points
          .map((p, slot) => ({ p, slot }))
          .map(({ p, slot: i }) => {
            const v = p.v ?? 0;
            const h = p.v === null ? 0 : Math.max(v > 0 ? 2 : 0, (v / max) * (height - 4));
            return (
              <rect
                key={`bar${i}`}
                x={i * bw + 0.5}
                y={height - h}
                width={Math.max(1, bw - 1)}
                height={h}
                className="bar"
                style={colorFor ? { fill: colorFor(v) } : undefined}
              >
                <title>{`${typeof p.t === 'number' ? new Date(p.t).toLocaleString() : new Date(p.t).toLocaleString()}: ${p.v === null ? 'no data' : `${round(v)}${unit}`}`}</title>
              </rect>
            );
          })}
      </svg>
      <figcaption>
        <span>{label}</span>
        <span className="muted">
          max {round(max)}
          {unit}
        </span>
      </figcaption>
    </figure>
  );
}

/** A line over time (latency); gaps where there is no data. */
export function LineChart({
  points,
  label,
  height = 120,
  unit = '',
}: {
  points: Point[];
  label: string;
  height?: number;
  unit?: string;
}) {
  const width = 600;
  const vals = points.map((p) => p.v).filter((v): v is number => v !== null);
  const max = Math.max(1, ...vals);
  const step = points.length > 1 ? width / (points.length - 1) : width;
  let d = '';
  let pen = false;
  points.forEach((p, i) => {
    if (p.v === null) {
      pen = false;
      return;
    }
    const x = i * step;
    const y = height - 2 - (p.v / max) * (height - 6);
    d += `${pen ? 'L' : 'M'}${x.toFixed(1)},${y.toFixed(1)}`;
    pen = true;
  });
  const avg = vals.length ? vals.reduce((a, b) => a + b, 0) / vals.length : 0;
  return (
    <figure className="chart">
      <svg
        viewBox={`0 0 ${width} ${height}`}
        preserveAspectRatio="none"
        role="img"
        aria-label={`${label}: average ${round(avg)}${unit}, max ${round(max)}${unit}`}
      >
        <line x1="0" x2={width} y1={height - 0.5} y2={height - 0.5} className="axis" />
        <path d={d} className="line" vectorEffect="non-scaling-stroke" />
      </svg>
      <figcaption>
        <span>{label}</span>
        <span className="muted">
          avg {round(avg)}
          {unit} · max {round(max)}
          {unit}
        </span>
      </figcaption>
    </figure>
  );
}

/** Horizontal share bars (tag breakdown). */
export function ShareBars({
  items,
  label,
}: {
  items: Array<{ value: string; count: number }>;
  label: string;
}) {
  const total = items.reduce((s, i) => s + i.count, 0) || 1;
  return (
    <ul className="share" aria-label={label}>
      {items.map((i) => {
        const pct = (i.count / total) * 100;
        return (
          <li key={i.value}>
            <div className="share-bar" style={{ width: `${pct}%` }} />
            <span className="share-value">{i.value || '(empty)'}</span>
            <span className="share-pct">{pct >= 1 ? Math.round(pct) : '<1'}%</span>
          </li>
        );
      })}
    </ul>
  );
}

function round(v: number): string {
  if (!Number.isFinite(v)) return '—';
  return Math.abs(v) >= 100 ? String(Math.round(v)) : String(Math.round(v * 10) / 10);
}
