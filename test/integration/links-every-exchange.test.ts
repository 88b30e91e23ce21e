import { describe, expect, it } from 'vitest';
import { parseScenarioText } from '../../src/scenario/load.js';
import { runScenario } from '../../src/engine/coordinator.js';

/**
 * The modelled link acts on every exchange, not only telemetry: the same fleet provisioning and
 * downloading an update over NB-IoT takes visibly longer than over ethernet (docs/models.md,
 * "Requests, sessions and downloads").
 */
function scenario(link: string, clock: 'virtual' | 'wall', extra = ''): string {
  return `
name: links-${link}
seed: 5
duration: ${clock === 'virtual' ? '40m' : '6s'}
clock: ${clock}
fleet:
  - { profile: ${link === 'ethernet' ? 'rpi4-gateway' : 'nrf9160-tracker'}, count: ${clock === 'virtual' ? 200 : 10}, link: ${link} }
arrival: { rate: 100/s }
behaviour:
${clock === 'virtual' ? '  poll: { every: 1m, jitter: 10% }' : '  download: { healthCheck: 200ms, appRestart: 100ms }'}
phases:
  - at: ${clock === 'virtual' ? '1m' : '0s'}
    update: { release: app-1.1, target: app, size: ${clock === 'virtual' ? '200KB' : '4KB'}, rollout: { strategy: all } }
${extra}`;
}

describe('links on every exchange', () => {
  it('on the virtual clock: provisioning latency and OTA download time grow on NB-IoT against ethernet', async () => {
    const run = async (link: string) => (await runScenario(parseScenarioText(scenario(link, 'virtual'), `${link}.yaml`), { workers: 1, runId: link })).summary;
    const eth = await run('ethernet');
    const nb = await run('nb-iot');
    const p50 = (s: typeof eth, h: string) => s.histograms[h].stats.p50;
    // Ethernet: a few ms of link; NB-IoT: a handshake and a request of about 5.8 s one way each,
    // then the answer: ~17 s at the median.
    expect(p50(nb, 'provision.latency')).toBeGreaterThan(p50(eth, 'provision.latency') + 10_000_000);
    expect(p50(nb, 'mqtt.connect.latency')).toBeGreaterThan(p50(eth, 'mqtt.connect.latency') + 10_000_000);
    expect(p50(nb, 'poll.latency')).toBeGreaterThan(p50(eth, 'poll.latency') + 5_000_000);
    // 200 KB at 26 kbit/s is at least 63 s on the wire; ethernet moves it in a fraction of that.
    expect(eth.counters['update.success']).toBe(200);
    expect(nb.counters['update.success']).toBeGreaterThan(150);
    expect(p50(nb, 'ota.download.duration')).toBeGreaterThan(63_000_000);
    expect(p50(nb, 'ota.download.duration')).toBeGreaterThan(3 * p50(eth, 'ota.download.duration'));
    expect(nb.counters['link.packets_lost']).toBeGreaterThan(0);
    expect(eth.accounting.holds && nb.accounting.holds).toBe(true);
  }, 60_000);

  it('on the wall clock against the embedded backend: the same growth, on real sockets', async () => {
    // A 100 ms link with 50% loss against a lossless one: the handshakes retransmit on their 1 s timer.
    const netem = (link: string) => scenario(link, 'wall').replace(`link: ${link} }`, `link: ${link}, netem: { delay: 100ms, jitter: 0ms, loss: ${link === 'nb-iot' ? '50%' : '0%'}, rate: 26kbit } }`);
    const run = async (link: string) => (await runScenario(parseScenarioText(netem(link), `${link}.yaml`), { workers: 1, runId: `wall-${link}`, drainMs: 2000 })).summary;
    const clean = await run('ethernet');
    const lossy = await run('nb-iot');
    const p50 = (s: typeof clean, h: string) => s.histograms[h].stats.p50;
    // Lossless: a handshake and a request, 2 × 100 ms, then the answer (100 ms): ≥ 300 ms.
    expect(clean.histograms['provision.latency'].stats.min).toBeGreaterThanOrEqual(300_000);
    expect(clean.counters['link.packets_lost']).toBe(0);
    expect(lossy.counters['link.packets_lost']).toBeGreaterThan(0);
    expect(p50(lossy, 'provision.latency')).toBeGreaterThan(p50(clean, 'provision.latency') + 500_000);
    expect(clean.counters['update.success']).toBe(10);
    expect(p50(clean, 'ota.download.duration')).toBeGreaterThanOrEqual(((4000 * 8) / 26_000) * 1e6); // b·8/R, 1.23 s
  }, 60_000);
});
