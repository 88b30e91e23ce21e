import net from 'node:net';
import tls from 'node:tls';
import { FleetsimError } from '../../errors/fleetsim-error.js';

/** Where a transport connects: parsed once per transport from `mqtt://host:port` or `mqtts://host:port`. */
export interface BrokerAddress {
  host: string;
  port: number;
  tls: boolean;
}

/** Parses a broker URL. Throws FleetsimError (usage) for anything but mqtt:// and mqtts:// with a host. */
export function parseBrokerUrl(url: string): BrokerAddress {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw badUrl(url, 'it is not a URL');
  }
  const tls = parsed.protocol === 'mqtts:';
  if (!tls && parsed.protocol !== 'mqtt:') throw badUrl(url, `unsupported scheme "${parsed.protocol}"`);
  if (parsed.hostname === '') throw badUrl(url, 'it has no host');
  // IPv6 literals come back bracketed from URL; net.connect wants them bare.
  const host = parsed.hostname.replace(/^\[(.*)\]$/, '$1');
  const port = parsed.port === '' ? (tls ? 8883 : 1883) : Number(parsed.port);
  return { host, port, tls };
}

function badUrl(url: string, why: string): FleetsimError {
  return new FleetsimError('FLEETSIM_E_USAGE', `invalid MQTT broker URL "${url}": ${why}`, {
    hint: 'use mqtt://host:port or mqtts://host:port, for example mqtt://127.0.0.1:1883',
  });
}

/** Read callback for net's `onread` option: every read lands in `buffer`, nothing is allocated per read. */
export interface SharedReadTarget {
  buffer: Buffer;
  callback: (this: net.Socket, nread: number, buf: Buffer) => boolean;
}

/**
 * Opens a TCP (or TLS over TCP) socket to the broker from `localAddress` (when given), with
 * Nagle off: MQTT frames are small and latency is what is measured. `onread` is used for plain
 * TCP only (TLS sockets deliver 'data' events).
 */
export function connectBrokerSocket(address: BrokerAddress, localAddress: string | undefined, onread?: SharedReadTarget): net.Socket {
  const { host, port } = address;
  if (!address.tls) return net.connect({ host, port, localAddress, noDelay: true, onread });
  // TLS over a socket we open ourselves, so that localAddress is honoured the same way.
  const tcp = net.connect({ host, port, localAddress, noDelay: true });
  return tls.connect({ socket: tcp, servername: net.isIP(host) ? undefined : host });
}
