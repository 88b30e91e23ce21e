/**
 * Starts and stops a local Mosquitto broker on a free loopback port, for heavy local runs (aedes
 * tops out far earlier), the transport contract tests and the benchmarks. The config is written to
 * a fresh temporary directory; nothing outside it is touched.
 */
import { type ChildProcess, spawn } from 'node:child_process';
import { accessSync, constants, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { FleetsimError } from '../../errors/fleetsim-error.js';

export interface LocalMosquittoOptions {
  /** Mosquitto's `max_connections` (default: unlimited; the descriptor limit still applies). */
  maxConnections?: number;
  /** Messages queued per client beyond those in flight (default 10,000). */
  maxQueuedMessages?: number;
  /** Loopback address to listen on (default 127.0.0.1). */
  host?: string;
  /** How long to wait for the port to accept connections (default 10 s). */
  startTimeoutMs?: number;
  /**
   * A TLS listener (mqtts://) with this server identity and CA (PEM). `requireCertificate`:
   * clients must present a certificate the CA issued, and its CN becomes their username
   * (use_identity_as_username), which ACL `pattern` lines can then use as %u.
   */
  tls?: { ca: string; cert: string; key: string; requireCertificate: boolean };
  /** Mosquitto ACL file text (`user`, `topic`, `pattern` lines); absent: every client may use every topic. */
  acl?: string;
  /** A password file made by mosquitto_passwd; clients must then log in (no anonymous access). */
  passwordFile?: string;
}

export interface LocalMosquitto {
  url: string;
  host: string;
  port: number;
  readonly pid: number;
  /** Suspends the broker (SIGSTOP): its sockets stay open but nothing is answered. */
  freeze(): void;
  /**
   * Kills the broker (SIGKILL, a crash) and starts it again on the same port and config after
   * `downMs`; resolves once it accepts connections again. Sessions and queued messages are gone
   * (persistence is off), as after a real crash.
   */
  restart(downMs: number): Promise<void>;
  /** Stops the broker (SIGTERM, then SIGKILL after 3 s) and removes its temporary directory. */
  stop(): Promise<void>;
}

export type MosquittoLookup = { ok: true; path: string } | { ok: false; reason: string };

const SEARCH_DIRS = ['/usr/sbin', '/usr/local/sbin', '/opt/homebrew/sbin', '/usr/local/opt/mosquitto/sbin'];

/** Finds the `mosquitto` executable on PATH or in the usual sbin directories. */
export function findMosquitto(): MosquittoLookup {
  const dirs = [...(process.env.PATH ?? '').split(path.delimiter).filter(Boolean), ...SEARCH_DIRS];
  for (const dir of dirs) {
    const candidate = path.join(dir, 'mosquitto');
    try {
      accessSync(candidate, constants.X_OK);
      return { ok: true, path: candidate };
    } catch {
      // not here
    }
  }
  return { ok: false, reason: `mosquitto not found on PATH or in ${SEARCH_DIRS.join(', ')}` };
}

const PORT_ATTEMPTS = 5;

export async function startLocalMosquitto(opts: LocalMosquittoOptions = {}): Promise<LocalMosquitto> {
  const found = findMosquitto();
  if (!found.ok) {
    throw new FleetsimError('FLEETSIM_E_BROKER_MISSING', found.reason, {
      hint: 'install Mosquitto (apt-get install mosquitto, brew install mosquitto) or use the embedded broker',
    });
  }
  const host = opts.host ?? '127.0.0.1';
  let lastError = '';
  for (let attempt = 0; attempt < PORT_ATTEMPTS; attempt++) {
    // The port is free when probed but may be taken before Mosquitto binds it: retry on that.
    const port = await freePort(host);
    const started = await launch(found.path, host, port, opts);
    if (started.ok) return started.broker;
    lastError = started.error;
    if (!/address already in use/i.test(lastError)) break;
  }
  throw new FleetsimError('FLEETSIM_E_BACKEND_START', `mosquitto failed to start: ${lastError.trim() || 'unknown error'}`, {
    hint: 'run the same mosquitto binary by hand with -v to see why',
  });
}

function configText(host: string, port: number, opts: LocalMosquittoOptions, dir: string): string {
  const authenticated = opts.passwordFile !== undefined || opts.tls?.requireCertificate === true;
  const lines = [
    `listener ${port} ${host}`,
    `allow_anonymous ${authenticated ? 'false' : 'true'}`,
    'persistence false',
    `max_connections ${opts.maxConnections ?? -1}`,
    // No cap on QoS 1 messages in flight towards a subscriber; queue beyond that up to a bound.
    'max_inflight_messages 0',
    `max_queued_messages ${opts.maxQueuedMessages ?? 10_000}`,
    'set_tcp_nodelay true',
    // $SYS every second: the embedded backend's counter reads how many messages the broker dropped
    // for slow subscribers (backend/count-confirmation.ts). It republishes only the values that changed.
    'sys_interval 1',
    'connection_messages false',
    'log_dest stderr',
    'log_type error',
    'log_type warning',
  ];
  // As root, Mosquitto would switch to the `mosquitto` user, which may not exist or read our temp dir.
  if (process.getuid?.() === 0) lines.push('user root');
  const file = (name: string, text: string): string => {
    const p = path.join(dir, name);
    writeFileSync(p, text, { mode: 0o600 });
    return p;
  };
  if (opts.tls) {
    lines.push(`cafile ${file('ca.crt', opts.tls.ca)}`, `certfile ${file('server.crt', opts.tls.cert)}`, `keyfile ${file('server.key', opts.tls.key)}`);
    if (opts.tls.requireCertificate) lines.push('require_certificate true', 'use_identity_as_username true');
  }
  if (opts.passwordFile !== undefined) lines.push(`password_file ${opts.passwordFile}`);
  if (opts.acl !== undefined) lines.push(`acl_file ${file('acl', opts.acl)}`);
  return lines.join('\n') + '\n';
}

/**
 * What to do if this process exits with brokers still running: one `exit` listener for them all
 * (a big run starts dozens of brokers; one listener each would trip Node's listener-leak warning).
 */
const onProcessExit = new Set<() => void>();
let exitListener = false;
function killAtProcessExit(kill: () => void): void {
  if (!exitListener) process.on('exit', () => onProcessExit.forEach((f) => f()));
  exitListener = true;
  onProcessExit.add(kill);
}

type LaunchResult = { ok: true; broker: LocalMosquitto } | { ok: false; error: string };

/** One Mosquitto process on a config file: the child, when it exited, and the tail of its stderr. */
interface Spawned {
  child: ChildProcess;
  exited: Promise<void>;
  stderr(): string;
}

function spawnBroker(binary: string, configPath: string): Spawned {
  // Its own process group, so a Ctrl-C meant for fleetsim does not take the broker down under
  // devices that are being stopped gracefully; fleetsim stops it (stop(), or at process exit).
  const child = spawn(binary, ['-c', configPath], { stdio: ['ignore', 'ignore', 'pipe'], detached: true });
  let stderr = '';
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.once('error', (err) => {
    stderr += `\n${err.message}`;
  });
  return { child, exited, stderr: () => stderr };
}

async function launch(binary: string, host: string, port: number, opts: LocalMosquittoOptions): Promise<LaunchResult> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'fleetsim-mosquitto-'));
  const configPath = path.join(dir, 'mosquitto.conf');
  writeFileSync(configPath, configText(host, port, opts, dir));
  let proc = spawnBroker(binary, configPath);
  // Never leave a broker (or its directory) behind when the process that started it exits.
  const killOnExit = (): void => {
    proc.child.kill('SIGKILL');
    rmSync(dir, { recursive: true, force: true });
  };
  killAtProcessExit(killOnExit);
  const cleanup = (): void => {
    onProcessExit.delete(killOnExit);
    rmSync(dir, { recursive: true, force: true });
  };
  const timeoutMs = opts.startTimeoutMs ?? 10_000;
  const ready = await waitForPort(host, port, proc.child, timeoutMs);
  if (!ready) {
    if (proc.child.exitCode === null && proc.child.signalCode === null) proc.child.kill('SIGKILL');
    await proc.exited;
    cleanup();
    return { ok: false, error: proc.stderr() || 'mosquitto did not accept connections in time' };
  }
  let frozen = false;
  let stopping: Promise<void> | null = null;
  let restarting: Promise<void> | null = null;
  const broker: LocalMosquitto = {
    url: `${opts.tls ? 'mqtts' : 'mqtt'}://${host}:${port}`,
    host,
    port,
    get pid() {
      return proc.child.pid!;
    },
    freeze() {
      frozen = true;
      proc.child.kill('SIGSTOP');
    },
    restart(downMs: number) {
      restarting ??= (async () => {
        // SIGKILL: a crash, not a clean shutdown, so clients see their sockets die without a DISCONNECT.
        proc.child.kill('SIGKILL');
        await proc.exited;
        frozen = false;
        if (downMs > 0) await new Promise((r) => setTimeout(r, downMs));
        if (stopping) return;
        proc = spawnBroker(binary, configPath);
        if (!(await waitForPort(host, port, proc.child, timeoutMs))) {
          throw new FleetsimError('FLEETSIM_E_BACKEND_START', `mosquitto did not come back on port ${port} after a restart: ${proc.stderr().trim() || 'no error output'}`, { hint: 'another process may have taken the port while the broker was down' });
        }
      })().finally(() => {
        restarting = null;
      });
      return restarting;
    },
    stop() {
      stopping ??= (restarting ?? Promise.resolve())
        .catch(() => {})
        .then(() => stopChild(proc.child, proc.exited, frozen))
        .then(cleanup);
      return stopping;
    },
  };
  return { ok: true, broker };
}

async function stopChild(child: ChildProcess, exited: Promise<void>, frozen: boolean): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  // A stopped process cannot act on SIGTERM; SIGKILL works either way.
  child.kill(frozen ? 'SIGKILL' : 'SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), 3000);
  await exited;
  clearTimeout(timer);
}

/** A port that was free a moment ago (bind to 0, read it, close). */
export function freePort(host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once('error', reject);
    server.listen(0, host, () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

async function waitForPort(host: string, port: number, child: ChildProcess, timeoutMs: number): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (child.exitCode !== null || child.signalCode !== null) return false;
    if (await canConnect(host, port)) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

function canConnect(host: string, port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host, port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}
