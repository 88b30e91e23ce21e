/**
 * Errors by route and by cause: one counter per (route, cause) pair, `errors.<route>.<cause>`, and
 * one per route for requests fleetsim itself cut off at the end of a run, `cancelled.<route>`
 * (not errors: the backend never got to answer them). Counters, so they merge across shards and
 * appear per interval in the timeline like every other counter.
 */

/** The device's requests to its backend. */
export const ROUTES = ['provision', 'poll', 'state', 'artifact', 'mqtt_connect'] as const;
export type RouteName = (typeof ROUTES)[number];
/** Route indices for hot paths. */
export const Route = { provision: 0, poll: 1, state: 2, artifact: 3, mqttConnect: 4 } as const;

/**
 * Why a request failed. HTTP statuses 429, 503 and 500 have their own cause (rate limited,
 * overloaded, broken), the other 4xx and 5xx are grouped; network causes come from the socket;
 * `bad_response` is a success status whose body is unreadable or of the wrong shape, `rejected` one
 * whose body is the platform's documented refusal (the preset recognises it). For MQTT
 * connect, a CONNACK refusal is `refused` too (the broker refused the session), and a CONNACK of
 * "server unavailable" (3) is `http_503`'s MQTT equivalent, counted there.
 */
export const CAUSES = ['http_429', 'http_503', 'http_500', 'http_4xx_other', 'http_5xx_other', 'reset', 'timeout', 'refused', 'tls', 'bad_response', 'rejected'] as const;
export type CauseName = (typeof CAUSES)[number];
export const Cause = { http429: 0, http503: 1, http500: 2, http4xx: 3, http5xx: 4, reset: 5, timeout: 6, refused: 7, tls: 8, badResponse: 9, rejected: 10 } as const;

export const errorCounterName = (route: RouteName, cause: CauseName): string => `errors.${route}.${cause}`;
export const cancelledCounterName = (route: RouteName): string => `cancelled.${route}`;

const ROUTE_HELP: Record<RouteName, string> = {
  provision: 'provisioning requests',
  poll: 'target-state polls',
  state: 'state reports',
  artifact: 'artifact (OTA) range requests',
  mqtt_connect: 'MQTT connects',
};
const CAUSE_HELP: Record<CauseName, string> = {
  http_429: 'answered 429 Too Many Requests',
  http_503: 'answered 503 Service Unavailable (MQTT: CONNACK 3, server unavailable)',
  http_500: 'answered 500 Internal Server Error',
  http_4xx_other: 'answered another 4xx',
  http_5xx_other: 'answered another 5xx',
  reset: 'whose connection broke before a complete answer',
  timeout: 'that got no complete answer within the timeout',
  refused: 'that could not open a connection (MQTT: or whose CONNACK refused the session)',
  tls: 'whose TLS handshake or certificate check failed',
  bad_response: 'answered a success with an unreadable or wrong-shaped body',
  rejected: "answered a success status whose body is the platform's documented refusal (ThingsBoard's provisioning FAILURE)",
};

/** Counter definitions (name, unit, help), routes-major: ordinal = base + route * CAUSES.length + cause, then the cancelled ones. */
export function requestErrorCounters(): Array<readonly [string, 'count', string]> {
  const out: Array<readonly [string, 'count', string]> = [];
  for (const r of ROUTES) for (const c of CAUSES) out.push([errorCounterName(r, c), 'count', `${cap(ROUTE_HELP[r])} ${CAUSE_HELP[c]}.`]);
  for (const r of ROUTES) out.push([cancelledCounterName(r), 'count', `${cap(ROUTE_HELP[r])} cut off by fleetsim's own stop at the end of the run (not errors).`]);
  return out;
}

function cap(s: string): string {
  return s[0].toUpperCase() + s.slice(1);
}
