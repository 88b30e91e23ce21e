import { C, cancelledCounter, errorCounter } from '../metrics/catalog.js';
import { Cause, Route } from '../metrics/request-errors.js';
import type { ShardMetrics } from '../metrics/registry.js';
import { BAD_RESPONSE, CANCELLED, REJECTED, MQTT_NET_CODE_BASE, NET_REFUSED, NET_TIMEOUT, NET_TLS } from '../drivers/types.js';

/** The class counter of a failure without an HTTP status: TLS has its own, the rest are network errors. */
function countNetClass(metrics: ShardMetrics, status: number): void {
  if (status === NET_TLS) metrics.inc(C['errors.tls']);
  // A bad or rejected answer did come back: an error of its route, not of the network.
  else if (status !== BAD_RESPONSE && status !== REJECTED) metrics.inc(C['errors.network']);
}

export { Route } from '../metrics/request-errors.js';

/** The cause (metrics/request-errors.ts) of a failed HTTP request's status or pseudo-status. */
export function httpCause(status: number): number {
  switch (status) {
    case 429:
      return Cause.http429;
    case 503:
      return Cause.http503;
    case 500:
      return Cause.http500;
    case BAD_RESPONSE:
      return Cause.badResponse;
    case REJECTED:
      return Cause.rejected;
    case NET_REFUSED:
      return Cause.refused;
    case NET_TIMEOUT:
      return Cause.timeout;
    case NET_TLS:
      return Cause.tls;
  }
  if (status >= 500) return Cause.http5xx;
  if (status >= 400) return Cause.http4xx;
  // Any other pseudo-status (or a status a device cannot act on) ended without a usable answer.
  return Cause.reset;
}

/**
 * Counts a failed request of `route` by cause, and in the totals by class (`errors.http_4xx`,
 * `errors.http_5xx`, `errors.network`, `errors.tls`). A request fleetsim cut off itself counts as cancelled
 * only. Returns false for a cancelled one, so callers can leave their failure counters alone.
 */
export function countHttpFailure(metrics: ShardMetrics, route: number, status: number): boolean {
  if (status === CANCELLED) {
    metrics.inc(cancelledCounter(route));
    return false;
  }
  metrics.inc(errorCounter(route, httpCause(status)));
  if (status >= 500) metrics.inc(C['errors.http_5xx']);
  else if (status >= 400) metrics.inc(C['errors.http_4xx']);
  else countNetClass(metrics, status);
  return true;
}

/** Counts a failed MQTT connect (`code` as in DriverEvents.onConnected) by cause and by class. */
export function countConnectFailure(metrics: ShardMetrics, code: number): void {
  if (code > 0) {
    // CONNACK 3 is "server unavailable", MQTT's 503; the other refusals refuse the session.
    metrics.inc(errorCounter(Route.mqttConnect, code === 3 ? Cause.http503 : Cause.refused));
    metrics.inc(C['errors.mqtt_refused']);
    return;
  }
  const status = MQTT_NET_CODE_BASE - code;
  metrics.inc(errorCounter(Route.mqttConnect, httpCause(status)));
  countNetClass(metrics, status);
}
