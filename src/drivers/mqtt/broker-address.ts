import net from 'node:net';
import tls from 'node:tls';
import { FleetsimError } from '../../errors/fleetsim-error.js';
import type { ClientIdentity, TlsSettings } from '../types.js';

/** Where a transport connects: parsed once per transport from `mqtt://host:port` or `mqtts://host:port`. */
export interface BrokerAddress {
  host: string;
  port: number;
  tls: boolean;
  /** Trust, SNI and verification for mqtts://. */
  secure?: TlsSettings;
  /** TLS sessions to resume, one per broker (no client certificate) or per device (with one). */
  sessions?: TlsSessionCache;
  /** The context of devices without a client certificate (the trust alone), made at the first connect and shared. */
  context?: tls.SecureContext;
}

/**
 * The TLS context of a device with a client certificate: its key, certificate and the target's
 * trust, made once and kept while the identity lives (a WeakMap, so a finished run's identities
 * take theirs with them). Building one from PEM costs about 2.5 ms of CPU (OpenSSL 3 decoding the
 * key and certificates; bench/RESULTS.md, "Mutual TLS"), a third of a client's whole mutual-TLS
 * handshake, so the shard makes them with the certificates, before the run
 * (engine/shard/wall.ts), and a connect only looks its context up. Memory: an open TLS socket
 * holds its context anyway; a device's reconnects share one.
 */
export function clientContext(identity: ClientIdentity, secure: TlsSettings | undefined): tls.SecureContext {
  const ca = secure?.ca;
  const kept = contexts.get(identity);
  if (kept !== undefined && kept.ca === ca) return kept.context;
  const context = tls.createSecureContext({ ca, key: identity.key, cert: identity.cert });
  contexts.set(identity, { ca, context });
  return context;
}

const contexts = new WeakMap<ClientIdentity, { ca: string | undefined; context: tls.SecureContext }>();

/**
 * TLS session resumption (RFC 8446 §2.2): the session ticket the broker sent on the last
 * handshake is offered on the next, which skips the certificate exchange and its signatures.
 * Without client certificates every device of a transport may resume one shared session; with
 * them a session carries the identity that made it, so each device resumes only its own.
 */
export class TlsSessionCache {
  private shared: Buffer | undefined;
  private readonly own: Array<Buffer | undefined> = [];
  /**
   * The certificate each device's session was made with: a resumed session keeps the identity of
   * its first handshake, so a device that changed certificate (AWS IoT's claim, then its own) must
   * not resume the old one.
   */
  private readonly ownCert: Array<string | undefined> = [];

  get(dev: number, perDevice: boolean, cert?: string): Buffer | undefined {
    if (!perDevice) return this.shared;
    return this.ownCert[dev] === cert ? this.own[dev] : undefined;
  }

  set(dev: number, perDevice: boolean, session: Buffer, cert?: string): void {
    if (perDevice) {
      this.own[dev] = session;
      this.ownCert[dev] = cert;
    } else this.shared = session;
  }
}

const kSessionSlot = Symbol('fleetsim.tlsSessionSlot');
const kCache = Symbol('fleetsim.tlsSessionCache');
const kCert = Symbol('fleetsim.tlsSessionCert');
type SessionSocket = tls.TLSSocket & { [kSessionSlot]?: number; [kCert]?: string };

/** 'session' listener shared by every TLS socket: `this[kSessionSlot]` is dev + 1 (negative when shared). */
function onTlsSession(this: SessionSocket, session: Buffer): void {
  const slot = this[kSessionSlot];
  const cache = (this as SessionSocket & { [kCache]?: TlsSessionCache })[kCache];
  if (slot === undefined || cache === undefined) return;
  cache.set(Math.abs(slot) - 1, slot > 0, session, this[kCert]);
}


/** Parses a broker URL. Throws FleetsimError (usage) for anything but mqtt:// and mqtts:// with a host. */
export function parseBrokerUrl(url: string, secure?: TlsSettings): BrokerAddress {
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
  return tls ? { host, port, tls, secure, sessions: new TlsSessionCache() } : { host, port, tls };
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
export function connectBrokerSocket(address: BrokerAddress, localAddress: string | undefined, onread?: SharedReadTarget, dev = 0, identity?: ClientIdentity): net.Socket {
  const { host, port } = address;
  if (!address.tls) return net.connect({ host, port, localAddress, noDelay: true, onread });
  // TLS over a socket we open ourselves, so that localAddress is honoured the same way.
  const tcp = net.connect({ host, port, localAddress, noDelay: true });
  const s = address.secure;
  const perDevice = identity !== undefined;
  const servername = s?.servername ?? (net.isIP(host) ? undefined : host);
  const socket: SessionSocket & { [kCache]?: TlsSessionCache } = tls.connect({
    socket: tcp,
    servername,
    // A context made once (per device with a certificate, per transport without), not from PEM per connect.
    secureContext: identity ? clientContext(identity, s) : (address.context ??= tls.createSecureContext({ ca: s?.ca })),
    rejectUnauthorized: s?.insecure !== true,
    session: address.sessions?.get(dev, perDevice, identity?.cert),
    // An IP literal URL with a servername: verify the certificate against the name, not the IP.
    ...(servername !== undefined && net.isIP(host) ? { checkServerIdentity: (_h: string, cert: tls.PeerCertificate) => tls.checkServerIdentity(servername, cert) } : {}),
  });
  if (address.sessions) {
    socket[kCache] = address.sessions;
    socket[kSessionSlot] = perDevice ? dev + 1 : -(dev + 1);
    socket[kCert] = identity?.cert;
    socket.on('session', onTlsSession);
  }
  return socket;
}
