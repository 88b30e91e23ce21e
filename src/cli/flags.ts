import { FleetsimError } from '../errors/fleetsim-error.js';

/** Parses a count flag: a whole number from 1 to 256. */
function parseCountFlag(text: string, flag: string, hint: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 256) {
    throw new FleetsimError('FLEETSIM_E_USAGE', `${flag} ${text}: expected a whole number from 1 to 256`, { hint });
  }
  return n;
}

/** Parses `--workers N` (a positive integer). */
export function parseWorkersFlag(text: string): number {
  return parseCountFlag(text, '--workers', 'use the number of cores to give the simulator, e.g. --workers 2');
}

/**
 * The slice of the fleet this process runs: `--shard i/N`, else Kubernetes Indexed Job variables
 * (JOB_COMPLETION_INDEX, JOB_COMPLETIONS), else the whole fleet (undefined).
 */
export function parseShardFlag(flag: string | undefined, env: NodeJS.ProcessEnv): { index: number; count: number } | undefined {
  let text = flag;
  if (text === undefined && env.JOB_COMPLETION_INDEX !== undefined && env.JOB_COMPLETIONS !== undefined) {
    text = `${env.JOB_COMPLETION_INDEX}/${env.JOB_COMPLETIONS}`;
  }
  if (text === undefined) return undefined;
  const m = /^(\d+)\/(\d+)$/.exec(text.trim());
  const index = m ? Number(m[1]) : NaN;
  const count = m ? Number(m[2]) : NaN;
  if (!m || count < 1 || index >= count) {
    throw new FleetsimError('FLEETSIM_E_USAGE', `--shard ${text}: expected i/N with 0 <= i < N`, {
      hint: 'e.g. --shard 0/3 runs the first of three slices; slices are numbered from 0 like JOB_COMPLETION_INDEX',
    });
  }
  return { index, count };
}

/** Parses a TCP port flag (0 lets the OS choose). */
export function parsePortFlag(text: string, flag: string): number {
  const n = Number(text);
  if (!Number.isInteger(n) || n < 0 || n > 65535) {
    throw new FleetsimError('FLEETSIM_E_USAGE', `${flag} ${text}: expected a port number from 0 to 65535`, { hint: `e.g. ${flag} 9464 (0 picks a free port and prints it)` });
  }
  return n;
}

/** Parses `--profile cpu|heap`. */
export function parseProfileFlag(text: string | undefined): 'cpu' | 'heap' | undefined {
  if (text === undefined) return undefined;
  if (text === 'cpu' || text === 'heap') return text;
  throw new FleetsimError('FLEETSIM_E_USAGE', `--profile ${text}: expected cpu or heap`, {
    hint: '--profile cpu writes shard-<i>.cpuprofile, --profile heap writes shard-<i>.heapprofile into the report directory; open them in Chrome DevTools',
  });
}

/** Parses `--processes N` (a positive integer). */
export function parseProcessesFlag(text: string): number {
  return parseCountFlag(text, '--processes', 'leave --processes out to run as many processes as the descriptor limit needs, or give e.g. --processes 4');
}

const IPV4 = /^(\d{1,3})\.(\d{1,3})\.(\d{1,3})\.(\d{1,3})$/;
/** Addresses one range may expand to: more than any machine's ports need. */
const MAX_SOURCE_ADDRESSES = 1024;

function ipv4ToNumber(text: string): number | undefined {
  const m = IPV4.exec(text);
  if (!m) return undefined;
  const parts = m.slice(1).map(Number);
  if (parts.some((p) => p > 255)) return undefined;
  return ((parts[0] << 24) >>> 0) + (parts[1] << 16) + (parts[2] << 8) + parts[3];
}

function numberToIpv4(n: number): string {
  return [n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255].join('.');
}

/**
 * Parses `--source-addresses`: a comma-separated list of addresses and IPv4 ranges
 * (`127.0.0.1-127.0.0.32`, or `127.0.0.1-32` for the last octet), in order, without duplicates.
 * `none` means never bind a source address (the kernel picks). IPv6 addresses may be listed
 * one by one.
 */
export function parseSourceAddressesFlag(text: string): string[] {
  const usage = (why: string) =>
    new FleetsimError('FLEETSIM_E_USAGE', `--source-addresses ${text}: ${why}`, {
      hint: 'write a range such as 127.0.0.1-127.0.0.32 (or 127.0.0.1-32), a list such as 10.0.0.5,10.0.0.6, both mixed, or none',
    });
  if (text.trim() === 'none') return [];
  const out: string[] = [];
  for (const raw of text.split(',')) {
    const item = raw.trim();
    if (item === '') throw usage('an empty item');
    const dash = item.indexOf('-');
    if (dash < 0) {
      if (ipv4ToNumber(item) === undefined && !(item.includes(':') && /^[0-9a-fA-F:.]+$/.test(item))) throw usage(`"${item}" is not an IP address`);
      out.push(item);
      continue;
    }
    const from = ipv4ToNumber(item.slice(0, dash));
    const endText = item.slice(dash + 1);
    const to = /^\d{1,3}$/.test(endText) && from !== undefined ? (from & 0xffffff00) + Number(endText) : ipv4ToNumber(endText);
    if (from === undefined || to === undefined || (/^\d{1,3}$/.test(endText) && Number(endText) > 255)) throw usage(`"${item}" is not a range of IPv4 addresses`);
    if (to < from) throw usage(`"${item}" ends before it starts`);
    if (to - from + 1 > MAX_SOURCE_ADDRESSES) throw usage(`"${item}" has ${to - from + 1} addresses; at most ${MAX_SOURCE_ADDRESSES}`);
    for (let n = from; n <= to; n++) out.push(numberToIpv4(n));
  }
  const seen = new Set<string>();
  for (const a of out) {
    if (seen.has(a)) throw usage(`${a} is listed twice`);
    seen.add(a);
  }
  if (out.length > MAX_SOURCE_ADDRESSES) throw usage(`${out.length} addresses; at most ${MAX_SOURCE_ADDRESSES}`);
  return out;
}

/** Parses `--start-at` (ISO 8601 or epoch ms) into epoch ms. */
export function parseStartAtFlag(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const ms = /^\d+$/.test(text) ? Number(text) : Date.parse(text);
  if (!Number.isFinite(ms)) {
    throw new FleetsimError('FLEETSIM_E_USAGE', `--start-at ${text}: not a time`, {
      hint: 'give an ISO 8601 instant such as 2026-11-28T10:00:00Z (or epoch milliseconds); every shard of a run gets the same one',
    });
  }
  return ms;
}
