import type { LinkExchange } from '../../src/models/link-exchange.js';

/** A modelled link for unit tests of fleet/linked-driver.ts: every message crosses in `ms`, none is lost. */
export function fixedLink(ms: number): LinkExchange {
  const cross = (_dev: number, _bytes: number, _leg: number, out: Float64Array) => {
    out.fill(0);
    return ms;
  };
  return { up: cross, down: cross } as unknown as LinkExchange;
}
