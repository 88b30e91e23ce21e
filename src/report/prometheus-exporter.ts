import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { Counter, Gauge, Registry } from 'prom-client';
import type { TimelineRow } from '../metrics/aggregate.js';
import { COUNTERS, GAUGES, HISTOGRAMS } from '../metrics/catalog.js';
import { decodeHistogram, newHistogram, type Histogram } from '../metrics/histogram.js';

const QUANTILES = [0.5, 0.9, 0.95, 0.99, 0.999];

/** `telemetry.ack.latency` -> `fleetsim_telemetry_ack_latency`. */
export function promName(metric: string): string {
  return `fleetsim_${metric.replace(/[^a-zA-Z0-9]+/g, '_')}`;
}

/**
 * The live Prometheus endpoint of `run --metrics-port N`: counters as Prometheus counters (totals
 * since the start), gauges as gauges, and each latency histogram as a summary-style family
 * (`<name>_seconds{quantile="0.99"}`, `_count`, `_sum`) computed from the exact merged HDR
 * histogram. Fed one merged interval at a time on the main thread; scrapes read the last state.
 */
export class PrometheusExporter {
  private readonly registry = new Registry();
  private readonly counters = new Map<string, Counter>();
  private readonly gauges = new Map<string, Gauge>();
  private readonly latency: Gauge<'metric' | 'quantile'>;
  private readonly latencyCount: Gauge<'metric'>;
  private readonly latencySum: Gauge<'metric'>;
  private readonly cumulative = new Map<string, Histogram>();
  private server: http.Server | undefined;

  constructor(labels: { scenario: string; run: string }) {
    this.registry.setDefaultLabels(labels);
    for (const [name, , help] of COUNTERS) {
      this.counters.set(name, new Counter({ name: `${promName(name)}_total`, help, registers: [this.registry] }));
    }
    for (const [name, , help] of GAUGES) {
      this.gauges.set(name, new Gauge({ name: promName(name), help, registers: [this.registry] }));
    }
    this.latency = new Gauge({ name: 'fleetsim_latency_seconds', help: 'Latency quantiles since the start of the run, from the merged HDR histograms.', labelNames: ['metric', 'quantile'], registers: [this.registry] });
    this.latencyCount = new Gauge({ name: 'fleetsim_latency_seconds_count', help: 'Samples per latency metric.', labelNames: ['metric'], registers: [this.registry] });
    this.latencySum = new Gauge({ name: 'fleetsim_latency_seconds_sum', help: 'Sum of latencies per metric, seconds.', labelNames: ['metric'], registers: [this.registry] });
  }

  async listen(port: number, host = '127.0.0.1'): Promise<string> {
    this.server = http.createServer(async (req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end('fleetsim exposes /metrics\n');
        return;
      }
      res.writeHead(200, { 'content-type': this.registry.contentType });
      res.end(await this.registry.metrics());
    });
    await new Promise<void>((resolve, reject) => {
      this.server!.once('error', reject);
      this.server!.listen(port, host, () => resolve());
    });
    const a = this.server.address() as AddressInfo;
    return `http://${host}:${a.port}/metrics`;
  }

  update(row: TimelineRow): void {
    for (const [name, c] of this.counters) {
      const d = row.counters[name] ?? 0;
      if (d > 0) c.inc(d);
    }
    for (const [name, g] of this.gauges) g.set(row.gauges[name] ?? 0);
    for (const [name] of HISTOGRAMS) {
      const enc = row.hdr?.[name];
      if (!enc) continue;
      let h = this.cumulative.get(name);
      if (!h) this.cumulative.set(name, (h = newHistogram()));
      const part = decodeHistogram(enc);
      h.add(part);
      part.destroy();
      for (const q of QUANTILES) this.latency.set({ metric: name, quantile: String(q) }, h.getValueAtPercentile(q * 100) / 1e6);
      this.latencyCount.set({ metric: name }, h.totalCount);
      this.latencySum.set({ metric: name }, (h.mean * h.totalCount) / 1e6);
    }
  }

  async close(): Promise<void> {
    for (const h of this.cumulative.values()) h.destroy();
    this.cumulative.clear();
    if (!this.server) return;
    const s = this.server;
    this.server = undefined;
    s.closeAllConnections();
    await new Promise<void>((r) => s.close(() => r()));
  }
}
