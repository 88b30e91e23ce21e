#!/usr/bin/python3
"""SimPy peer of fleetsim's virtual clock, for bench/virtual.mjs.

The same fleet model as the bench scenario, event for event, written the way a SimPy 2.3 user
would (classic API: Process, `yield hold`), so that events per second compare like for like:

- arrival: device g powers on at ((g * stride) % N) / rate (fleetsim's interleaved order);
- power-on: boot energy, first report at U(0, every) later, provision (HTTP, modelled latency)
  and connect (MQTT, modelled latency) when the link is up, each one event;
- telemetry: a report every `every` with symmetric jitter; generated, buffered while offline,
  sent when online with the uplink energy, acknowledged after a modelled latency (one event);
- outages: each device's own on/off renewal process (exponential up, lognormal down), started in
  equilibrium; going down fails the session's messages in flight, coming up reconnects (one
  event) and flushes the buffer (one ack event per message);
- energy: closed-form battery update at every energy step (boot, provision, attach, uplink), as
  models/energy.ts EnergyState.advance + spend;
- latency draws from 4096-point lognormal quantile tables (fleetsim's backend model), latencies
  recorded into log-linear histograms, counters kept.

Draws: `--rng counter` computes every uniform with fleetsim's counter-based hash (models/rng.ts:
the same keys, so the same draws and the same work); `--rng native` uses Python's C Mersenne
Twister instead, one call per uniform (less work than fleetsim, so SimPy's best case).

An event is one `yield hold` resumed (one heap pop), which is what fleetsim counts (one dispatch).
Prints one JSON line. Usage: /usr/bin/python3 bench/virtual_simpy.py CONFIG_JSON
"""
import json
import math
import random
import resource
import sys
import time

from SimPy.Simulation import Process, Simulation, hold

MASK = 0xFFFFFFFF
EVENTS = 0


def fmix32(h):
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & MASK
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & MASK
    return h ^ (h >> 16)


def make_draws(seed, mode):
    """uniform32(device, stream, counter) and uniform53(...) as in models/rng.ts, or native."""
    if mode == 'native':
        rnd = random.Random(seed).random
        return (lambda d, s, c: rnd()), (lambda d, s, c: rnd())
    h0 = fmix32((seed ^ 0x9E3779B9) & MASK)

    def draw32(d, s, c):
        h = fmix32(h0 ^ (((d + 1) * 0x27D4EB2F) & MASK))
        h = fmix32(h ^ (((s + 1) * 0x165667B1) & MASK))
        h = fmix32(h ^ (((c + 1) * 0x9E3779B1) & MASK))
        return fmix32((h + c) & MASK)

    def u32(d, s, c):
        return draw32(d, s, c) / 4294967296.0

    def u53(d, s, c):
        return ((draw32(d, s, 2 * c) >> 5) * 67108864 + (draw32(d, s, 2 * c + 1) >> 6)) / 9007199254740992.0

    return u32, u53


def normal_quantile(p):
    """Acklam's approximation, as models/rng.ts normalQuantile."""
    a = [-39.69683028665376, 220.9460984245205, -275.9285104469687, 138.357751867269, -30.66479806614716, 2.506628277459239]
    b = [-54.47609879822406, 161.5858368580409, -155.6989798598866, 66.80131188771972, -13.28068155288572]
    c = [-0.007784894002430293, -0.3223964580411365, -2.400758277161838, -2.549732539343734, 4.374664141464968, 2.938163982698783]
    d = [0.007784695709041462, 0.3224671290700398, 2.445134137142996, 3.754408661907416]
    if p < 0.02425:
        q = math.sqrt(-2 * math.log(p))
        return (((((c[0] * q + c[1]) * q + c[2]) * q + c[3]) * q + c[4]) * q + c[5]) / ((((d[0] * q + d[1]) * q + d[2]) * q + d[3]) * q + 1)
    if p > 1 - 0.02425:
        return -normal_quantile(1 - p)
    q = p - 0.5
    r = q * q
    return (((((a[0] * r + a[1]) * r + a[2]) * r + a[3]) * r + a[4]) * r + a[5]) * q / (((((b[0] * r + b[1]) * r + b[2]) * r + b[3]) * r + b[4]) * r + 1)


def latency_table(service):
    """Service-time quantiles at 4096 midpoints, as the model driver's latencyTable (lognormal only:
    the default backend's operations are lognormal, and a different kind is refused, not guessed)."""
    if service['kind'] != 'lognormal':
        raise SystemExit(f"virtual_simpy.py models lognormal service times only, got {service['kind']}")
    mu, sigma = service['mu'], service['sigma']
    t = [math.exp(mu + sigma * normal_quantile((i + 0.5) / 4096)) for i in range(4096)]
    t.append(t[-1])
    return t


def latency_at(t, u):
    x = u * 4096 - 0.5
    if x <= 0:
        return t[0]
    i = int(x)
    return t[i] + (t[i + 1] - t[i]) * (x - i)


class Fleet:
    """Per-device state as lists (fleetsim keeps typed arrays), shared counters and histograms."""

    def __init__(self, cfg):
        n = self.n = cfg['devices']
        self.u32, self.u53 = make_draws(cfg['seed'], cfg['rng'])
        self.every = cfg['telemetry']['everyMs']
        self.jitter = cfg['telemetry']['jitter']
        be = cfg['backend']
        self.lat = [latency_table(be['ops'][k]['service']) for k in ('provision', 'connect', 'publish')]
        e = cfg['energy']
        self.sleep_w, self.self_w, self.inv_eta = e['sleepSourceW'], e['selfW'], e['invEta']
        self.steps = [e['steps'][k] for k in ('boot', 'attach', 'uplink', 'poll')]
        o = cfg['outage']
        self.down_mu, self.down_sigma = math.log(o['downMedianMs']), o['downSigma']
        down_mean = math.exp(self.down_mu + self.down_sigma ** 2 / 2)
        self.up_mean = down_mean * o['availability'] / (1 - o['availability'])
        self.left = [e['capacityJ']] * n
        self.consumed = [0.0] * n
        self.last = [0.0] * n
        self.dead = [False] * n
        self.draws = [0] * n
        self.seq = [0] * n
        self.sent = [0] * n
        self.periods = [0] * n
        self.up = [True] * n
        self.next_flip = [0.0] * n
        self.powered = [False] * n
        self.creds = [False] * n
        self.online = [False] * n
        self.session = [0] * n
        self.inflight = [0] * n
        self.c = dict(powered_on=0, provision_ok=0, connect_ok=0, generated=0, sent=0, acked=0, failed=0, link_down=0, link_up=0, depleted=0)
        self.hist = [0] * (64 << 7)
        for d in range(n):
            # Stationary start, as Reachability/RenewalStates: up with probability A, then the residual.
            up = self.u53(d, 5, 0) < o['availability']
            v, u1, u2 = self.u53(d, 5, 1), self.u53(d, 5, 2), self.u53(d, 5, 3)
            if up:
                r = -self.up_mean * math.log(1 - u1)
            else:
                z = math.sqrt(-2 * math.log(1 - u1)) * math.cos(2 * math.pi * u2)
                r = v * math.exp(self.down_mu + self.down_sigma ** 2 + self.down_sigma * z)
            self.up[d] = up
            self.next_flip[d] = r

    def record(self, us):
        v = int(us) if us >= 1 else 1
        b = v.bit_length()
        self.hist[(b << 7) + (v >> (b - 7) if b > 7 else v)] += 1

    def charge(self, d, step, now):
        """EnergyState.advance + spend (closed form); False when the battery is empty."""
        if self.dead[d]:
            return False
        dt = (now - self.last[d]) / 1000
        if dt > 0:
            self.last[d] = now
            net = -self.sleep_w - self.self_w
            e = self.left[d] + net * dt
            if e <= 0:
                self.consumed[d] += self.left[d]
                self.left[d] = 0.0
                self.dead[d] = True
                self.c['depleted'] += 1
                return False
            self.consumed[d] += self.sleep_w * dt
            self.left[d] = e
        j = self.steps[step] * self.inv_eta
        if j < self.left[d]:
            self.consumed[d] += j
            self.left[d] -= j
            return True
        self.dead[d] = True
        self.c['depleted'] += 1
        return False

    def latency(self, d, op):
        u = self.u32(d, 1001, self.draws[d])
        self.draws[d] += 1
        return latency_at(self.lat[op], u)

    def next_period(self, d, up):
        n = self.periods[d]
        self.periods[d] = n + 1
        u1 = self.u53(d, 5, 128 + 2 * n)
        u2 = self.u53(d, 5, 129 + 2 * n)
        if up:
            return -self.up_mean * math.log(1 - u1)
        return math.exp(self.down_mu + self.down_sigma * math.sqrt(-2 * math.log(1 - u1)) * math.cos(2 * math.pi * u2))


def connect_and_flush(proc, f, d, sim):
    """Connect (one event), then send the buffer, each message acked after its latency (one event each)."""
    global EVENTS
    if not f.charge(d, 1, sim.now()):
        return
    yield hold, proc, f.latency(d, 1)
    EVENTS += 1
    if not f.up[d] or f.online[d]:
        return
    f.online[d] = True
    f.c['connect_ok'] += 1
    f.record(1000 * 15)
    yield from send_buffered(proc, f, d, sim)


def send_buffered(proc, f, d, sim):
    global EVENTS
    while f.sent[d] < f.seq[d] and f.online[d]:
        if not f.charge(d, 2, sim.now()):
            return
        f.sent[d] += 1
        f.c['sent'] += 1
        f.inflight[d] += 1
        session = f.session[d]
        sent_at = sim.now()
        yield hold, proc, f.latency(d, 2)
        EVENTS += 1
        if f.session[d] == session and f.inflight[d] > 0:
            f.inflight[d] -= 1
            f.c['acked'] += 1
            f.record((sim.now() - sent_at) * 1000)


class Device(Process):
    """Power-on, provision, connect, then the telemetry loop (reports and their acks)."""

    def run(self, f, d, sim):
        global EVENTS
        EVENTS += 1  # the power-on event
        f.powered[d] = True
        f.c['powered_on'] += 1
        if not f.charge(d, 0, sim.now()):
            return
        first = sim.now() + f.u32(d, 2, 0xFFFFFFFF) * f.every
        if f.up[d] and f.charge(d, 3, sim.now()):
            yield hold, self, f.latency(d, 0)
            EVENTS += 1
            f.creds[d] = True
            f.c['provision_ok'] += 1
            f.record(1000 * 40)
            if f.up[d]:
                yield from connect_and_flush(self, f, d, sim)
        next_at = first
        every, jitter, u32 = f.every, f.jitter, f.u32
        while True:
            wait = next_at - sim.now()
            yield hold, self, wait if wait > 0 else 0
            EVENTS += 1
            if f.dead[d]:
                return
            next_at = sim.now() + max(0.0, every * (1 + jitter * (2 * u32(d, 2, f.seq[d]) - 1)))
            f.seq[d] += 1
            f.c['generated'] += 1
            if f.online[d]:
                yield from send_buffered(self, f, d, sim)


class Link(Process):
    """The device's own on/off renewal process: drops the session when down, reconnects when up."""

    def run(self, f, d, sim):
        global EVENTS
        while True:
            wait = f.next_flip[d] - sim.now()
            yield hold, self, wait if wait > 0 else 0
            EVENTS += 1
            at = f.next_flip[d]
            up = not f.up[d]
            f.up[d] = up
            f.next_flip[d] = at + f.next_period(d, up)
            if not up:
                f.c['link_down'] += 1
                if f.online[d]:
                    f.online[d] = False
                    f.session[d] += 1
                    f.c['failed'] += f.inflight[d]
                    f.inflight[d] = 0
                continue
            f.c['link_up'] += 1
            if not f.powered[d] or f.dead[d]:
                continue
            if not f.creds[d]:
                if not f.charge(d, 3, sim.now()):
                    continue
                yield hold, self, f.latency(d, 0)
                EVENTS += 1
                f.creds[d] = True
                f.c['provision_ok'] += 1
            yield from connect_and_flush(self, f, d, sim)


def main():
    cfg = json.loads(sys.argv[1])
    t0, c0 = time.perf_counter(), time.process_time()
    sim = Simulation()
    sim.initialize()
    f = Fleet(cfg)
    n = f.n
    stride = cfg['arrivalStride']
    rate = cfg['arrivalRatePerSec']
    for d in range(n):
        dev = Device(name='d', sim=sim)
        sim.activate(dev, dev.run(f, d, sim), at=((d * stride) % n) / rate * 1000)
        link = Link(name='l', sim=sim)
        sim.activate(link, link.run(f, d, sim), at=0)
    t1, c1 = time.perf_counter(), time.process_time()
    sim.simulate(until=cfg['durationMs'])
    t2, c2 = time.perf_counter(), time.process_time()
    # Link processes start with one resume at t = 0 that is not a model event: take them out.
    events = EVENTS - n
    print(json.dumps({
        'peer': 'simpy', 'rng': cfg['rng'], 'devices': n, 'events': events,
        'setupS': t1 - t0, 'simS': t2 - t1, 'wallS': t2 - t0, 'cpuS': c2 - c0,
        'eventsPerSec': events / (t2 - t0), 'eventsPerSecSimLoop': events / (t2 - t1),
        'maxRssKiB': resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        'counters': f.c,
    }))


if __name__ == '__main__':
    main()
