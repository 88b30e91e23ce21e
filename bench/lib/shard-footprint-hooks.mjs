// ESM load hook of bench/lib/shard-footprint-probe.mjs: one line per module the process loads.
import { appendFileSync } from 'node:fs';

export async function load(url, context, next) {
  appendFileSync(`${process.env.FOOTPRINT_DIR}/mods-${process.pid}`, `${url}\n`);
  return next(url, context);
}
