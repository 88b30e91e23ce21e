import { afterEach, describe, expect, it } from 'vitest';
import { parseScenarioText } from '../../src/scenario/load.js';
import { runScenario } from '../../src/engine/coordinator.js';
import { startEmbeddedBackend, type EmbeddedBackend } from '../../src/backend/index.js';
import { formatSummaryTable } from '../../src/report/console.js';
import { FaultProxy, type FaultAnswer, type LoggedAnswer, type ProxyRequest } from '../helpers/fault-proxy.js';

/**
 * HTTP errors and retries as a backend sees them: a fault-injecting proxy on loopback in front of
 * the embedded backend answers with 429/503 + Retry-After (seconds and HTTP dates), garbage 200s
 * or no answer at all, and logs when each device came back. fleetsim's counters must match what
 * the proxy handed out, and no device may come back before the Retry-After it was given.
 */
const KEY = 'retry-after-key';
let backend: EmbeddedBackend | undefined;
let proxy: FaultProxy | undefined;
afterEach(async () => {
  await proxy?.close();
  await backend?.close();
  proxy = backend = undefined;
});

async function start(rule: (r: ProxyRequest, p: FaultProxy) => FaultAnswer | undefined): Promise<FaultProxy> {
  backend = await startEmbeddedBackend({ fleetKey: KEY });
  const p: FaultProxy = new FaultProxy(backend.httpUrl, (r) => rule(r, p));
  proxy = await p.start();
  return proxy;
}

const scenario = (name: string, url: string, mqtt: string, extra = '') => `
name: ${name}
seed: 11
duration: 10s
target: { http: "${url}", mqtt: "${mqtt}", fleetKey: ${KEY} }
fleet:
  - { profile: rpi4-gateway, count: 40, link: ethernet }
arrival: { rate: 400/s }
behaviour:
  poll: { every: 1s, jitter: 10% }
${extra}`;

/** Clocks on both sides tick in whole ms: a request can look up to 1 ms early by rounding alone. */
const CLOCK_MS = 1;
/** How late a timer may fire when the CPU is shared: the upper bounds allow it, the lower ones do not. */
const SCHEDULING_SLACK_MS = 500;

/** The next request the proxy saw from the same device on the same identity after `a`. */
function nextFrom(p: FaultProxy, a: LoggedAnswer): ProxyRequest | undefined {
  const sameId = (r: ProxyRequest) => (a.route === 'provision' ? r.route === 'provision' : r.route === 'poll' || r.route === 'state');
  return p.requests.find((r) => r.device === a.device && sameId(r) && r.atMs >= a.atMs && r !== p.requests.find((q) => q.atMs === a.atMs && q.device === a.device && q.route === a.route));
}

describe('Retry-After on every route', () => {
  it('no device comes back before the Retry-After it was given (seconds or HTTP date, polls and provisioning), each answer carrying one is counted, and jitter spreads a fleet told to wait together', async () => {
    let polls = 0;
    let firstPollMs = -1;
    const p = await start((r, self) => {
      // The first request of each device: 429, come back in 2 s (the whole fleet at once).
      if (r.route === 'provision' && !self.requests.some((q) => q !== r && q.route === 'provision' && q.device === r.device)) return { status: 429, retryAfter: '2' };
      if (r.route !== 'poll') return undefined;
      // Timed from the fleet's first poll, so a slow start on a busy machine shifts nothing.
      if (firstPollMs < 0) firstPollMs = r.atMs;
      if (r.atMs < firstPollMs + 1000 || r.atMs >= firstPollMs + 3500) return undefined;
      // A backend overloaded for 2.5 s: every poll gets a 503, Retry-After as seconds or a date.
      return polls++ % 2 === 0 ? { status: 503, retryAfter: '2' } : { status: 503, retryAfter: new Date(Date.now() + 3000).toUTCString() };
    });
    const s = parseScenarioText(scenario('retry-after', p.url, backend!.mqttUrl), 'retry-after.yaml');
    const { summary } = await runScenario(s, { workers: 1, runId: 'retry-after', drainMs: 2000 });

    const told = p.answers.filter((a) => a.retryAfterUntilMs !== undefined);
    const pollFaults = told.filter((a) => a.route === 'poll');
    expect(told.filter((a) => a.route === 'provision')).toHaveLength(40);
    expect(pollFaults.length).toBeGreaterThanOrEqual(30);
    expect(pollFaults.some((a) => a.retryAfterMs! < 3000 && a.retryAfterMs! > 2000)).toBe(true); // HTTP dates among them

    // The backend's view: every device's next request came after its Retry-After, never before.
    let early = 0;
    let cameBack = 0;
    for (const a of told) {
      const next = nextFrom(p, a);
      if (next === undefined) continue;
      cameBack++;
      if (next.atMs < a.retryAfterUntilMs! - CLOCK_MS) early++;
    }
    expect(early).toBe(0);
    expect(cameBack).toBeGreaterThan(told.length * 0.8);

    // fleetsim's view matches what the proxy handed out, route by route and cause by cause.
    expect(summary.counters['http.retry_after']).toBe(told.length);
    expect(summary.counters['errors.provision.http_429']).toBe(40);
    expect(summary.counters['errors.poll.http_503']).toBe(pollFaults.length);
    expect(summary.counters['provision.ok']).toBe(40);

    // Full jitter (the default, 100%): the 40 devices told together to wait 2 s came back spread
    // over the following 2 s, not in one burst. Never early; late only by scheduling, which on a
    // CPU shared with other test files reaches a few hundred ms (2,112 ms seen at load 30), far
    // below the extra 2 s a jitter twice as wide would give.
    const retries = told.filter((a) => a.route === 'provision').map((a) => nextFrom(p, a)!.atMs - a.retryAfterUntilMs!);
    retries.sort((x, y) => x - y);
    expect(retries[0]).toBeGreaterThanOrEqual(-CLOCK_MS);
    expect(retries[retries.length - 1]).toBeLessThanOrEqual(2000 + SCHEDULING_SLACK_MS);
    expect(retries[Math.floor(retries.length * 0.9)] - retries[Math.floor(retries.length * 0.1)]).toBeGreaterThan(1000);
  });
});

describe('bad responses and requests cut off by the end of the run', () => {
  it('a 200 with an unreadable or wrong-shaped body is bad_response on its route (not ok, not 5xx); requests fleetsim cuts off at its stop are cancelled, not errors', async () => {
    let garbageProvisions = 0;
    let garbagePolls = 0;
    let hung = 0;
    const runStart = { at: Infinity };
    const p = await start((r, self) => {
      if (r.route === 'provision' && garbageProvisions < 10) {
        garbageProvisions++;
        return { status: 201, body: '<html>proxy error</html>' };
      }
      if (r.route === 'poll' && r.atMs > 2000 && garbagePolls < 15) {
        garbagePolls++;
        return { status: 200, body: garbagePolls % 2 === 0 ? '{"release":5,"config":{},"etag":"x"}' : '{"release":"app-2' };
      }
      // The last second of the run: polls get no answer before fleetsim stops.
      if (r.route === 'poll' && self.now() > runStart.at + 8000) {
        hung++;
        return { status: 0, hang: true };
      }
      return undefined;
    });
    const s = parseScenarioText(scenario('bad-and-cancelled', p.url, backend!.mqttUrl), 'bad.yaml');
    runStart.at = p.now();
    const { summary } = await runScenario(s, { workers: 1, runId: 'bad-and-cancelled', drainMs: 500 });
    const c = summary.counters;

    // Garbage is not a server error (round 1 booked each garbage provisioning 200 as a 502) ...
    expect(c['errors.http_5xx']).toBe(0);
    // ... and not a success: every poll fleetsim booked as ok was a real target state the backend sent.
    const realOk = p.answers.filter((a) => a.route === 'poll' && (a.status === 200 || a.status === 304)).length;
    expect(c['poll.ok']).toBeLessThanOrEqual(realOk);
    expect(c['poll.failed']).toBe(15);
    expect(c['errors.provision.bad_response']).toBe(10);
    expect(c['errors.poll.bad_response']).toBe(15);
    expect(c['provision.ok']).toBe(40);

    expect(hung).toBeGreaterThan(0);
    // Each poll the proxy held is cut off by fleetsim's stop (a poll still on its way then is too).
    expect(c['cancelled.poll']).toBeGreaterThanOrEqual(hung);
    expect(c['cancelled.poll']).toBeLessThanOrEqual(hung + 40);
    expect(c['errors.network']).toBe(0);
    for (const cause of ['http_429', 'http_503', 'http_500', 'http_4xx_other', 'http_5xx_other', 'reset', 'timeout', 'refused', 'tls']) expect(c[`errors.poll.${cause}`], cause).toBe(0);
  });
});

describe('recovery after an outage is a number', () => {
  it('a scripted provisioning outage: knocked-out devices, time to 50/95/99% back and devices still out match what the backend saw', async () => {
    let firstMs = -1;
    const OUTAGE_MS = 3000;
    // Five devices the backend never lets back in: they must be reported, not hidden.
    const never = new Set(['recovery-3', 'recovery-11', 'recovery-19', 'recovery-27', 'recovery-35']);
    const p = await start((r) => {
      if (r.route !== 'provision') return undefined;
      if (firstMs < 0) firstMs = r.atMs;
      return r.atMs < firstMs + OUTAGE_MS || never.has(r.device) ? { status: 503 } : undefined;
    });
    const s = parseScenarioText(
      scenario('recovery', p.url, backend!.mqttUrl, '  telemetry: { every: 1s, jitter: 10%, qos: 1 }\n  reconnect: { base: 500ms, cap: 4s }\n').replace('duration: 10s', 'duration: 14s'),
      'recovery.yaml',
    );
    const { summary } = await runScenario(s, { workers: 1, runId: 'recovery', drainMs: 1000 });
    const o = summary.outage!;
    expect(o).toBeDefined();

    // The backend's view: who got a 503, and when each device's provisioning first succeeded.
    const failed = new Set(p.answers.filter((a) => a.route === 'provision' && a.status === 503).map((a) => a.device));
    const okAt = new Map<string, number>();
    for (const a of p.answers) if (a.route === 'provision' && a.status === 201 && !okAt.has(a.device)) okAt.set(a.device, a.sentAtMs);
    expect(failed.size).toBe(40);
    // Any other knock-out (a poll or session failing after the device was back) would count the
    // device again: the message names what fleetsim saw fail, for the run that ever shows one.
    const otherFailures = Object.fromEntries(Object.entries(summary.counters).filter(([k, v]) => v > 0 && /^errors\.(poll|state)\.|^mqtt\.(connection_lost|connect\.failed)/.test(k)));
    expect(o.affected, `other failures: ${JSON.stringify(otherFailures)}; proxy answers other than 503 on provisioning: ${p.answers.filter((a) => a.route !== 'provision' && a.status >= 400).length}`).toBe(failed.size);
    const neverBack = [...failed].filter((d) => !okAt.has(d)).length;
    expect(neverBack).toBeGreaterThanOrEqual(never.size);
    // Still out = never provisioned, plus at most a device or two provisioned in the run's last moments.
    expect(o.stillOut).toBeGreaterThanOrEqual(neverBack);
    expect(o.stillOut).toBeLessThanOrEqual(neverBack + 2);
    expect(o.back + o.stillOut).toBe(o.affected);

    // Times from the backend's recovery (the first device back) to 50% and 95% back, as the proxy
    // saw the successful provisionings: equal within the report's resolution (one interval, each
    // side) plus a connect and a first ack.
    const times = [...okAt.values()].sort((x, y) => x - y);
    const expectAt = (share: number) => times[Math.ceil(share * o.affected) - 1] - times[0];
    // (A busy machine delays snapshots and acks: one second more.)
    const slack = 2 * o.resolutionMs + 1000;
    expect(Math.abs(o.timeTo50Ms! - expectAt(0.5))).toBeLessThanOrEqual(slack);
    // 35 of 40 can come back at most: 95% and 99% are never reached, and the summary says so.
    expect(o.timeTo95Ms).toBeNull();
    expect(o.timeTo99Ms).toBeNull();
    expect(o.recoveredAtMs! - o.startMs).toBeGreaterThanOrEqual(OUTAGE_MS - slack);

    const text = formatSummaryTable(summary);
    expect(text).toContain('OUTAGE AND RECOVERY');
    expect(text).toContain(`${o.stillOut} of 40 still out when the run ended`);
    expect(text).toContain('ERRORS BY ROUTE');
    // Every 503 the proxy sent is counted, unless fleetsim's stop cut the request off before the answer arrived.
    const sent503 = p.answers.filter((a) => a.route === 'provision' && a.status === 503).length;
    const e = summary.requestErrors!;
    expect(e.byRoute.provision.http_503).toBeLessThanOrEqual(sent503);
    expect(e.byRoute.provision.http_503 + e.cancelled.provision).toBeGreaterThanOrEqual(sent503);
  });
});

describe('synchronized retries are flagged', () => {
  it('a fleet told to wait 4 s with retryAfterJitter 0% comes back in one burst, and the report says so', async () => {
    const p = await start((r, self) => {
      if (r.route === 'provision' && !self.requests.some((q) => q !== r && q.route === 'provision' && q.device === r.device)) return { status: 429, retryAfter: '4' };
      return undefined;
    });
    const s = parseScenarioText(
      scenario('lockstep', p.url, backend!.mqttUrl, '  retryAfterJitter: 0%\n').replace('duration: 10s', 'duration: 12s').replace('poll: { every: 1s, jitter: 10% }', 'poll: { every: 4s, jitter: 10% }'),
      'lockstep.yaml',
    );
    const { summary } = await runScenario(s, { workers: 1, runId: 'lockstep', drainMs: 1000 });
    const o = summary.outage!;
    // The proxy's view: all 40 retries within one interval of each other.
    const retries = p.requests.filter((r) => r.route === 'provision').slice(40).map((r) => r.atMs);
    expect(retries).toHaveLength(40);
    expect(Math.max(...retries) - Math.min(...retries)).toBeLessThan(o.resolutionMs);
    expect(o.affected).toBe(40);
    expect(o.peakRatio).toBeGreaterThanOrEqual(3);
    expect(o.synchronizedRetries).toBe(true);
    expect(formatSummaryTable(summary)).toContain('✗ synchronized retries');
  });
});
