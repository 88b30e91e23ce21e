/**
 * undici's Pool and Client, loaded from their own files instead of undici's index. The index also
 * loads fetch, WebSocket, caches and cookies, and its cookie code reads the global `Headers`,
 * which makes Node load its own bundled copy of undici as well: ~5 MB of memory per process that
 * the real-socket driver never uses, paid by every shard process (bench/RESULTS.md, "250,000
 * connected devices"). undici has no `exports` map, so these paths are public files of the
 * package; they are the classes its index re-exports, and the types are the index's.
 *
 * Loaded on first use: a run whose devices use the lean HTTP transport and download nothing never
 * creates a Pool or Client, and each shard thread would otherwise load them at start.
 */
import { createRequire } from 'node:module';
import type { Client as UndiciClient, Pool as UndiciPool } from 'undici';

const load = createRequire(import.meta.url);

let poolClass: typeof UndiciPool | undefined;
let clientClass: typeof UndiciClient | undefined;

export function undiciPool(): typeof UndiciPool {
  return (poolClass ??= load('undici/lib/dispatcher/pool.js') as typeof UndiciPool);
}
export type Pool = UndiciPool;

export function undiciClient(): typeof UndiciClient {
  return (clientClass ??= load('undici/lib/dispatcher/client.js') as typeof UndiciClient);
}
export type Client = UndiciClient;
