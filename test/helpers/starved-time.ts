import { performance } from 'node:perf_hooks';

/**
 * Wall time this process spent unable to run: on a loaded box it waits whole seconds for a core,
 * and a bound on how long something took in wall time then fails for a reason that is not the
 * code's. A timer every `everyMs` measures how late it fires; the part of that lateness the
 * process spent on CPU work of its own (process.cpuUsage) is not starvation, so a server that
 * blocks its event loop, or makes a request wait while the process idles, still counts against
 * the bound. A test adds `during(from)` to its wall-time bound instead of a larger slack.
 *
 * The timer is unref'd; `stop()` it when the test is done.
 */
export class StarvedTime {
  private starvedMs = 0;
  private lastAt = performance.now();
  private lastCpuMs = cpuMs();
  private readonly timer: NodeJS.Timeout;

  constructor(private readonly everyMs = 10) {
    this.timer = setInterval(() => this.tick(), everyMs);
    this.timer.unref();
  }

  /** Starved ms since this meter started, the lateness of the timer now included. */
  now(): number {
    return this.starvedMs + this.pending(performance.now(), cpuMs());
  }

  /** Starved ms since `from` (an earlier `now()`). */
  during(from: number): number {
    return this.now() - from;
  }

  stop(): void {
    clearInterval(this.timer);
  }

  private pending(at: number, cpu: number): number {
    const late = at - this.lastAt - this.everyMs;
    return Math.max(0, late - (cpu - this.lastCpuMs));
  }

  private tick(): void {
    const at = performance.now();
    const cpu = cpuMs();
    this.starvedMs += this.pending(at, cpu);
    this.lastAt = at;
    this.lastCpuMs = cpu;
  }
}

function cpuMs(): number {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
}
