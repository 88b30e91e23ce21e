import type { RunSummary } from '../summary/run-summary.js';
import type { BackendQueueStats } from '../summary/backend-queues.js';
import { formatCount, formatMicros } from './format.js';
import type { TextTable } from './longrun-tables.js';

/**
 * The modelled backend's queues (summary.json `backend`, virtual clock with `backend:`) as a
 * table, and the tiles that answer a sizing scenario, for the console and report.html alike.
 */

/** Where each operation's wait shows on the device's side: the latency histogram that includes it. */
const DEVICE_LATENCY: Readonly<Record<string, string>> = {
  provision: 'provision.latency',
  connect: 'mqtt.connect.latency',
  publish: 'telemetry.ack.latency',
  poll: 'poll.latency',
};

const ms = (v: number) => (v === 0 ? '0' : formatMicros(v * 1000));
const pct = (v: number) => `${(v * 100).toFixed(v > 0 && v < 0.01 ? 2 : 1)}%`;

export function backendQueueTables(s: RunSummary): TextTable[] {
  const b = s.backend;
  if (!b) return [];
  const ops = Object.entries(b.operations);
  if (ops.length === 0) return [];
  return [
    {
      title: 'BACKEND QUEUES',
      head: ['operation', 'servers', 'waiting room', 'arrivals', 'served', 'rejected', 'dropped', 'busy', 'wait mean', 'wait p50', 'wait p99', 'wait max', 'waited', 'held to step'],
      rows: ops.map(([op, q]) => [op, formatCount(q.servers), q.queueLimit === null ? 'no limit' : formatCount(q.queueLimit), formatCount(q.arrivals), formatCount(q.served), formatCount(q.rejected), formatCount(q.dropped), pct(q.utilisation), ms(q.waitMs.mean), ms(q.waitMs.p50), ms(q.waitMs.p99), ms(q.waitMs.max), pct(q.waitedShare), `${formatCount(q.heldToStep.count)} · ${ms(q.heldToStep.meanMs)}`]),
      notes: [
        `one fleet-wide FCFS queue per operation, traded between workers every ${ms(b.lockstepMs)} of simulated time; "busy" = server time used / (servers × run); "waited" = share of served operations that waited for a server; "held to step" = answers ready before the end of their lockstep step and delivered at its end (how many · mean extra)`,
      ],
    },
  ];
}

/** The busiest queueing operation: what a sizing scenario is about. */
function busiest(s: RunSummary): [string, BackendQueueStats] | undefined {
  const ops = Object.entries(s.backend?.operations ?? {});
  return ops.length === 0 ? undefined : ops.reduce((a, b) => (b[1].utilisation > a[1].utilisation ? b : a));
}

/**
 * A sized backend answers: does this many servers hold? The busiest operation's servers and how
 * busy they were, the latency devices saw for it against its threshold, its queue wait and what
 * it turned away.
 */
export function backendTiles(s: RunSummary): Array<{ kind: string; value: string; label: string; tone?: 'good' | 'bad' }> {
  const top = busiest(s);
  if (!top) return [];
  const [op, q] = top;
  const metric = DEVICE_LATENCY[op];
  const seen = metric === undefined ? undefined : s.histograms[metric]?.stats;
  const bound = metric === undefined ? undefined : s.thresholds.find((t) => t.metric === metric);
  const turnedAway = q.rejected + q.dropped;
  const tiles: Array<{ kind: string; value: string; label: string; tone?: 'good' | 'bad' }> = [{ kind: 'backend', value: formatCount(q.servers), label: `${op} servers · ${pct(q.utilisation)} busy` }];
  if (seen && seen.count > 0) {
    tiles.push({ kind: 'backend', value: formatMicros(seen.p99), label: `${op} latency p99 on devices${bound ? ` · ${bound.expression} ${bound.ok ? 'held' : 'not held'}` : ''}`, tone: bound ? (bound.ok ? 'good' : 'bad') : undefined });
  }
  tiles.push(
    { kind: 'backend', value: ms(q.waitMs.p99), label: `${op} queue wait p99 · ${pct(q.waitedShare)} waited` },
    { kind: 'backend', value: formatCount(turnedAway), label: `${op}s turned away of ${formatCount(q.arrivals)} (${q.whenFull === 'reject' ? 'rejected' : 'dropped'} when full)`, tone: turnedAway > 0 ? 'bad' : 'good' },
  );
  return tiles;
}
