import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { startEmbeddedBackend } from '../../backend/index.js';
import { PLATFORM_FAKES, platformFake } from '../../backend/fakes/registry.js';
import type { PlatformFake } from '../../backend/fakes/platform-fake.js';
import { FleetsimError } from '../../errors/fleetsim-error.js';
import { suggestionHint } from '../../scenario/suggest.js';
import { EXIT_CODES } from '../../summary/verdict.js';
import type { DeviceStatsResponse } from '../../wire/reference-protocol.js';
import { COMMAND_LISTING } from './listing.js';

/**
 * `fleetsim backend`: the embedded reference fleet backend on its own, or with `--preset NAME` a
 * local fake of that platform's device API (the registry of backend/fakes/), for pointing a
 * scenario (`target: { http: ..., mqtt: ..., preset: NAME }`) or a platform's own device client
 * at it. Runs until SIGINT/SIGTERM, then closes every socket, prints what it counted and exits
 * with EXIT_CODES.interrupted, as `run` and `sweep` do when stopped.
 */

/** `--preset` for the embedded reference backend (the default). */
const REFERENCE = 'reference';

interface BackendFlags {
  preset: string;
  host: string;
  httpPort: string;
  mqttPort: string;
  fleetKey?: string;
  mqtt: boolean;
  verbose?: boolean;
}

function parsePort(flag: string, text: string): number {
  const n = Number(text);
  if (!/^\d+$/.test(text.trim()) || n > 65535) {
    throw new FleetsimError('FLEETSIM_E_USAGE', `${flag} must be a port number, got "${text}"`, {
      hint: `use 0..65535; 0 lets the OS pick a free port (printed at start)`,
    });
  }
  return n;
}

/** The fake `--preset` names, or undefined for the reference backend; an unknown name is a usage error listing them all. */
function fakeOf(name: string): PlatformFake | undefined {
  if (name === REFERENCE) return undefined;
  const fake = platformFake(name);
  if (fake !== undefined) return fake;
  const names = [REFERENCE, ...PLATFORM_FAKES.map((f) => f.name)];
  throw new FleetsimError('FLEETSIM_E_USAGE', `--preset ${JSON.stringify(name)} is not a backend fleetsim can run`, { hint: suggestionHint(name, names, 'backends') });
}

/** Resolves with the first SIGINT or SIGTERM. */
function untilSignal(): Promise<NodeJS.Signals> {
  return new Promise((resolve) => {
    const on = (sig: NodeJS.Signals): void => {
      process.off('SIGINT', on);
      process.off('SIGTERM', on);
      resolve(sig);
    };
    process.on('SIGINT', on);
    process.on('SIGTERM', on);
  });
}

function countsLine(t: DeviceStatsResponse['totals']): string {
  return `devices ${t.devices}, provisions ${t.provisions}, polls ${t.polls}, telemetry received ${t.received} (duplicates ${t.duplicates}, gaps ${t.gaps})`;
}

function row(label: string, value: string): string {
  return `  ${label.padEnd(21)} ${value}\n`;
}

export function register(program: Command): void {
  program
    .command('backend')
    .description(COMMAND_LISTING.backend.summary)
    .option('--preset <name>', `what to serve: ${REFERENCE} (fleetsim's embedded backend) or a platform fake: ${PLATFORM_FAKES.map((f) => f.name).join(', ')}`, REFERENCE)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--http-port <n>', 'HTTP API port (0 = any free port)', '0')
    .option('--mqtt-port <n>', 'MQTT broker port (0 = any free port)', '0')
    .option('--fleet-key <key>', "fleet key devices provision with (default: a random one for the reference backend, the fake's example key for a fake; printed)")
    .option('--no-mqtt', 'serve the HTTP API only (reference backend)')
    .option('-v, --verbose', 'print broker and HTTP diagnostics to stderr')
    .action(async (flags: BackendFlags) => {
      const fake = fakeOf(flags.preset);
      const httpPort = parsePort('--http-port', flags.httpPort);
      const mqttPort = parsePort('--mqtt-port', flags.mqttPort);
      if (flags.fleetKey !== undefined && flags.fleetKey.length === 0) {
        throw new FleetsimError('FLEETSIM_E_USAGE', '--fleet-key must not be empty', { hint: 'omit it to get the default key (printed)' });
      }
      if (fake !== undefined && !flags.mqtt) {
        throw new FleetsimError('FLEETSIM_E_USAGE', `--no-mqtt applies to the reference backend only; the ${fake.name} fake serves ${fake.serves.mqtt ? 'MQTT as its platform does' : 'no MQTT anyway'}`, { hint: 'drop --no-mqtt' });
      }
      const log = flags.verbose ? (line: string) => process.stderr.write(line + '\n') : undefined;
      const out = process.stdout;
      let stop: () => Promise<string>;
      if (fake === undefined) {
        const fleetKey = flags.fleetKey ?? randomBytes(12).toString('base64url');
        const backend = await startEmbeddedBackend({ fleetKey, host: flags.host, httpPort, mqttPort, mqtt: flags.mqtt, log });
        out.write(`fleetsim embedded backend\n`);
        out.write(row('http', backend.httpUrl));
        if (backend.mqttUrl) out.write(row('mqtt', backend.mqttUrl));
        out.write(row('fleet key', fleetKey));
        out.write(row('stats', `${backend.httpUrl}/v1/stats/devices?summary=1`));
        stop = async () => {
          const counted = countsLine(backend.stats().totals);
          await backend.close();
          return counted;
        };
      } else {
        const fleetKey = flags.fleetKey ?? fake.exampleFleetKey;
        const running = await fake.start({ fleetKey, host: flags.host, httpPort, mqttPort, log });
        out.write(`fleetsim ${fake.name} fake: ${fake.description}\n`);
        if (running.httpUrl) out.write(row('http', running.httpUrl));
        if (running.mqttUrl) out.write(row('mqtt', running.mqttUrl));
        out.write(row('fleet key', fleetKey));
        for (const [label, value] of running.credentials) out.write(row(label, value));
        for (const [label, value] of running.endpoints) out.write(row(label, value));
        const target = [running.httpUrl && `http: ${running.httpUrl}`, running.mqttUrl && `mqtt: ${running.mqttUrl}`, `preset: ${fake.preset}`, `fleetKey: ${fleetKey}`].filter(Boolean).join(', ');
        out.write(row('scenario target', `{ ${target} }`));
        stop = async () => {
          await running.settle();
          const counted = countsLine(running.stats().totals);
          await running.close();
          return counted;
        };
      }
      out.write(`press Ctrl+C to stop\n`);
      const signal = await untilSignal();
      const counted = await stop();
      out.write(`\n${signal}: closed. ${counted}\n`);
      process.exitCode = EXIT_CODES.interrupted;
    });
}
