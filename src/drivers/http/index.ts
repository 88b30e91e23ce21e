/** The HTTP transport of the real-socket driver (undici). */
export { createHttpTransport } from './transport.js';
export { parseRetryAfterMs } from './retry-after.js';
