import { DERIVED, METRICS, type MetricDef } from './catalog.js';
import { describeMetricAggregates } from './thresholds.js';

/**
 * docs/metrics.md, rendered from the catalogue (catalog.ts) and the threshold grammar
 * (thresholds.ts), so the reference cannot say something the code does not do. A test compares
 * the committed file with this text; `npm run docs` rewrites it.
 */

export const METRICS_DOC_COMMAND = 'npm run docs';

const UNIT_TEXT: Record<MetricDef['unit'], string> = {
  us: 'µs (thresholds take durations)',
  ms: 'ms',
  count: 'count',
  devices: 'devices',
  bytes: 'bytes',
  ratio: 'fraction',
};

function cell(text: string): string {
  return text.replace(/\|/g, '\\|').replace(/\n/g, ' ');
}

function table(defs: readonly MetricDef[], columns: Array<[string, (d: MetricDef) => string]>): string {
  const head = `| ${columns.map(([h]) => h).join(' | ')} |\n|${columns.map(() => '---').join('|')}|\n`;
  return head + defs.map((d) => `| ${columns.map(([, f]) => cell(f(d))).join(' | ')} |`).join('\n') + '\n';
}

const name = (d: MetricDef) => `\`${d.name}\``;
const unit = (d: MetricDef) => UNIT_TEXT[d.unit];
const measures = (d: MetricDef) => d.help;
const rate = (d: MetricDef) => describeMetricAggregates(d).rate;
const aggregates = (d: MetricDef) => describeMetricAggregates(d).aggregates;

export function renderMetricsDoc(): string {
  const derived = new Set(DERIVED.map((d) => d.name));
  const of = (kind: MetricDef['kind'], wantDerived: boolean) => METRICS.filter((m) => m.kind === kind && derived.has(m.name) === wantDerived);
  return `<!-- Generated from src/metrics/catalog.ts and src/metrics/thresholds.ts by \`${METRICS_DOC_COMMAND}\`; do not edit by hand. -->
# Metrics

Every metric fleetsim produces, what exactly it measures, and how a threshold reads it. Names are
the keys of \`thresholds:\` in a scenario, of \`counters\`, \`gauges\` and \`histograms\` in
summary.json ([summary.md](summary.md)) and of \`--max-regression\` in \`fleetsim compare\`. A
threshold on a name that is not listed here is an error, never a silent pass.

## Thresholds

A threshold is \`AGGREGATE OP VALUE\` (k6's grammar): \`p(99) < 500ms\`, \`avg <= 2s\`, \`count == 0\`,
\`rate < 3%\`. Operators: \`<\` \`<=\` \`>\` \`>=\` \`==\` \`!=\`. What an aggregate means depends on the kind of
metric:

| kind | aggregates | value |
|---|---|---|
| counter | \`count\` | the run's total |
| counter | \`rate\` | a **share of attempts** for outcome counters (the \`rate\` column of the tables below says of what) (\`rate < 3%\` or \`rate < 0.03\`); **per second** of (simulated) run time for every other counter (\`rate > 20/s\`) |
| gauge | \`min\`, \`max\`, \`avg\` | the level in the gauge's unit; summary.json keeps the value at the end of the run, which is what thresholds compare |
| histogram | \`p(N)\`, \`avg\`, \`med\`, \`min\`, \`max\` | a duration (\`250us\`, \`500ms\`, \`2s\`, \`1m\`, \`1h\`; a plain number is milliseconds); \`count\` is the number of samples |
| rollout | \`p(N)\` | the time until N% of the devices concerned had reached the state |

No data never passes: an empty histogram, a share with no attempts (\`update.failed\` when no update
finished) or a rollout share never reached makes the threshold fail with "no data" or "never reached".

## Which metric counts lost messages

- **\`telemetry.lost\`**: the answer to "how many messages did the backend never get". It is
  what fleetsim knows it lost on its own side (\`telemetry.dropped\` on the device,
  \`link.messages_lost\` and \`telemetry.in_transit_at_drop\` on the modelled link) +
  \`telemetry.failed\` + the messages a device counted as delivered that the backend never received
  ("lost between", \`accounting.backend.lostBetween\` in summary.json). The last part needs a
  backend that counts what it receives, so it is included with the embedded backend only; against
  an external backend the reports say that its side is not visible. Write
  \`telemetry.lost: ["rate < 0.1%"]\` (a share of \`telemetry.generated\`).
- **\`telemetry.sent_noack\`** counts QoS 0 messages written to a live session, past the modelled
  link: a message the link lost or still held is never among them.
- **\`link.messages_lost\`** is one *cause* inside \`telemetry.lost\`: messages the link model lost
  because TCP retransmitted them for its whole give-up time (924.6 s) and abandoned the
  connection. **\`telemetry.in_transit_at_drop\`**: messages still on the link when their session
  ended. Use them to tell the radio's share from the backend's.
- **\`link.packets_lost\`** counts packets the link lost and TCP retransmitted: those messages
  arrive late, not never. It explains latency, not loss.
- **"lost between"** is not a metric but a line of the accounting identity in every report
  (generated = acked + sent_noack + failed + dropped + lost on link + in transit at drop + in
  transit at end + buffered, then what the backend received); it is what the simulator believes
  was delivered and the backend never saw.
- **A count the backend cannot vouch for.** With \`target.mqtt: local-mosquitto\` (or a broker by
  URL) the embedded backend counts telemetry through a subscription on each broker, and a broker
  drops what it cannot queue for a slow subscriber. At the end of the run the counter sends a
  marker through each broker and waits for it, and reads Mosquitto's own count of dropped
  messages: **\`backend.uncounted\`** is what the brokers dropped on the way to the counter (they
  reached the broker, so they are not "lost between" nor in \`telemetry.lost\`; the backend's
  received and gaps miss them), and **\`backend.count_unconfirmed\`** counts brokers whose count
  could not be confirmed complete (marker not back, counting session lost, drops not readable),
  with why in \`accounting.backend.unconfirmed\` and in the console and HTML reports. "Lost between"
  is then an upper bound, so a run whose only failed threshold is on \`telemetry.lost\` is invalid,
  not failed. Write
  \`backend.count_unconfirmed: ["count == 0"]\` to demand a confirmed count.

## Which latency judges the backend

- **\`telemetry.ack.latency\`** is the backend's own: from the PUBLISH written to the wire (past
  the modelled link) to its PUBACK. Put latency thresholds on it: a healthy backend passes them
  whatever radio the devices have.
- **\`telemetry.ack.latency_end_to_end\`** is what a device sees: from the message leaving the
  device to the PUBACK back at it, the modelled link's delays and TCP retransmissions included.
  **\`telemetry.ack.latency_from_schedule\`** is the same from the intended send time, so time in
  the device's buffer counts too.
- **\`telemetry.delivered_after_reconnect.delay\`**: generation to delivery of the messages a
  device buffered through a lost session (\`telemetry.delivered_after_reconnect\` counts them).

## Fleet operations

- Failure share of a campaign: \`campaign.failures: ["rate < 3%"]\`, the share of finished updates
  (success, failed, rolled back) that did not commit: the same share \`abortIf: "failure_rate > 3%"\`
  compares. \`update.failed\` and \`update.rolled_back\` take \`rate\` the same way, each on its own.
- The campaign aborted: \`campaign.aborted: ["count == 1"]\` (or \`["count == 0"]\`: it did not).
- Time to N% of the fleet: \`campaign.time_to_updated: ["p(95) < 2h"]\`, from the campaign's start,
  over the devices that have a compatible artifact.
- Devices still pending approval at the end (manual provisioning): \`devices.awaiting_approval: ["max == 0"]\`.

## Counters

${table(of('counter', false), [['metric', name], ['unit', unit], ['what it counts', measures], ['`rate` means', rate]])}
## Gauges

Sampled every interval (\`options.snapshotEvery\`); summed over shards for fleet counts, the maximum
over shards for generator health.

${table(of('gauge', false), [['metric', name], ['unit', unit], ['what it measures', measures], ['aggregates', aggregates]])}
## Histograms

Recorded in µs in HDR histograms of one shape (1 µs to 1 h, 3 significant digits), so shards merge
exactly.

${table(of('histogram', false), [['metric', name], ['what it measures (from → to)', measures], ['aggregates', aggregates]])}
## Derived at the end of a run

${table(METRICS.filter((m) => derived.has(m.name)), [['metric', name], ['kind', (d) => d.kind], ['unit', unit], ['what it measures', measures], ['`rate` / aggregates', rate]])}`;
}
