import { Session } from 'node:inspector';
import { mkdir, writeFile } from 'node:fs/promises';
import path from 'node:path';

export type ProfileKind = 'cpu' | 'heap';

/**
 * CPU or sampling-heap profile of one shard thread, through the thread's own inspector session
 * (every worker thread has one). Written as `shard-<i>.cpuprofile` / `.heapprofile`, which Chrome
 * DevTools and speedscope open directly.
 */
export class ShardProfiler {
  private readonly session = new Session();

  private constructor(private readonly kind: ProfileKind) {}

  static async start(kind: ProfileKind): Promise<ShardProfiler> {
    const p = new ShardProfiler(kind);
    p.session.connect();
    if (kind === 'cpu') {
      await p.post('Profiler.enable');
      await p.post('Profiler.start');
    } else {
      await p.post('HeapProfiler.enable');
      await p.post('HeapProfiler.startSampling', { samplingInterval: 32768 });
    }
    return p;
  }

  async stop(dir: string, shard: number): Promise<string> {
    const result = (await this.post(this.kind === 'cpu' ? 'Profiler.stop' : 'HeapProfiler.stopSampling')) as { profile: unknown };
    this.session.disconnect();
    await mkdir(dir, { recursive: true });
    const file = path.join(dir, `shard-${shard}.${this.kind === 'cpu' ? 'cpuprofile' : 'heapprofile'}`);
    await writeFile(file, JSON.stringify(result.profile));
    return file;
  }

  private post(method: string, params?: object): Promise<unknown> {
    return new Promise((resolve, reject) => {
      this.session.post(method, params ?? {}, (err, res) => (err ? reject(err) : resolve(res)));
    });
  }
}
