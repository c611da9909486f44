import client from 'prom-client';

/**
 * Prometheus metrics. One registry per process (tests create their own); roles add their own
 * counters through `counter`/`gauge`/`histogram`, which return the existing metric when called
 * twice with one name.
 */
export class Metrics {
  readonly registry = new client.Registry();
  readonly httpRequests: client.Counter<'method' | 'route' | 'status'>;
  readonly httpDuration: client.Histogram<'method' | 'route' | 'status'>;

  /** `defaults: false` for a worker thread: process metrics are the main thread's to report. */
  constructor(opts: { defaults?: boolean } = {}) {
    if (opts.defaults !== false)
      client.collectDefaultMetrics({ register: this.registry, eventLoopMonitoringPrecision: 20 });
    this.httpRequests = this.counter('beacon_http_requests_total', 'HTTP requests', [
      'method',
      'route',
      'status',
    ]);
    this.httpDuration = this.histogram('beacon_http_request_duration_seconds', 'HTTP request latency', [
      'method',
      'route',
      'status',
    ]);
  }

  /** The exposition text, merged with other threads' metrics (`getMetricsAsJSON()` of theirs). */
  async text(others: client.MetricObjectWithValues<client.MetricValue<string>>[][] = []): Promise<string> {
    const extra = others.filter((m) => m.length > 0);
    if (extra.length === 0) return this.registry.metrics();
    const own = await this.registry.getMetricsAsJSON();
    return client.AggregatorRegistry.aggregate([own, ...extra]).metrics();
  }

  counter<L extends string>(name: string, help: string, labelNames: L[] = []): client.Counter<L> {
    const existing = this.registry.getSingleMetric(name);
    if (existing) return existing as client.Counter<L>;
    return new client.Counter({ name, help, labelNames, registers: [this.registry] });
  }

  gauge<L extends string>(name: string, help: string, labelNames: L[] = []): client.Gauge<L> {
    const existing = this.registry.getSingleMetric(name);
    if (existing) return existing as client.Gauge<L>;
    return new client.Gauge({ name, help, labelNames, registers: [this.registry] });
  }

  histogram<L extends string>(
    name: string,
    help: string,
    labelNames: L[] = [],
    buckets = [0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  ): client.Histogram<L> {
    const existing = this.registry.getSingleMetric(name);
    if (existing) return existing as client.Histogram<L>;
    return new client.Histogram({ name, help, labelNames, buckets, registers: [this.registry] });
  }
}
