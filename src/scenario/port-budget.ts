/**
 * How many MQTT sockets one destination, and one source address, may take before the kernel's
 * port search gets slow (scenario/capacity.ts plans the run with these), and the loopback source
 * addresses a run spreads its sockets over past that.
 *
 * Why source addresses, and why these numbers (Linux 6.x, measured here, bench/RESULTS.md):
 * - An unbound connect() picks its port per destination but scans the even half of the
 *   ephemeral range first: past ~14,100 connections to one destination (every even port), each
 *   further connect costs ~0.75 ms of kernel time instead of ~0.03 ms. With 14 local brokers the
 *   simulator's CPU doubled at ~198k connections and the run stalled, four runs out of four.
 * - A socket bound to a source address (Node binds with SO_REUSEADDR) takes its port from that
 *   address for every destination, and bind() first scans one parity of the lower half of the
 *   range: past ~7,000 sockets on one address each bind costs ~1.4 ms of kernel time; past the
 *   whole range, ports are handed out twice and connects collide.
 * So MQTT sockets stay unbound while every destination stays under SAFE_PER_DESTINATION, and past
 * that all of them bind, round-robin, at most SAFE_PER_SOURCE_ADDRESS per address. Both scale
 * with the machine's ip_local_port_range (MachineLimits.ephemeralPorts).
 */

/** One source address to one destination: the Linux ephemeral port range 32768-60999. */
export const PORTS_PER_SOURCE_ADDRESS = 28_232;
/** Unbound connects per destination we plan for: under the even half of the range (see above). */
export const SAFE_PER_DESTINATION = 12_000;
/** Bound sockets per source address we plan for: under one parity of the range's lower half (see above). */
export const SAFE_PER_SOURCE_ADDRESS = 6_000;

/** The safe counts for a machine whose ephemeral range has `ports` ports (85% of a half, of a quarter). */
export function portBudget(ports = PORTS_PER_SOURCE_ADDRESS): { perDestination: number; perSourceAddress: number } {
  const scale = ports / PORTS_PER_SOURCE_ADDRESS;
  return { perDestination: Math.floor(SAFE_PER_DESTINATION * scale), perSourceAddress: Math.floor(SAFE_PER_SOURCE_ADDRESS * scale) };
}

export function isLoopbackHost(url: string): boolean {
  const host = urlHost(url);
  return host === 'localhost' || host === '::1' || (host !== undefined && /^127\./.test(host));
}

/** The host of a URL, IPv6 literals without brackets; undefined for no URL. */
export function urlHost(url: string): string | undefined {
  try {
    return new URL(url).hostname.replace(/^\[(.*)\]$/, '$1');
  } catch {
    return undefined;
  }
}

/** 127.0.0.1 .. 127.0.0.n: all of 127.0.0.0/8 is loopback on Linux. */
export function loopbackSourceAddresses(n: number): string[] {
  return Array.from({ length: n }, (_, i) => `127.0.${(i + 1) >> 8}.${(i + 1) & 255}`);
}
