/** The HTTP transports of the real-socket driver: undici, and fleetsim's lean HTTP/1.1 client. */
import { createLeanHttpTransport } from './lean-transport.js';
import { createUndiciHttpTransport } from './transport.js';
import type { HttpTransport, HttpTransportEvents, HttpTransportOptions } from '../types.js';

export function createHttpTransport(opts: HttpTransportOptions, events: HttpTransportEvents): HttpTransport {
  return opts.client === 'lean' ? createLeanHttpTransport(opts, events) : createUndiciHttpTransport(opts, events);
}
export { parseRetryAfterMs } from './retry-after.js';
