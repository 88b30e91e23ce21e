import { randomBytes } from 'node:crypto';
import type { Command } from 'commander';
import { startEmbeddedBackend } from '../../backend/index.js';
import { FleetsimError } from '../../errors/fleetsim-error.js';

/**
 * `fleetsim backend`: the embedded reference fleet backend on its own, for pointing a scenario
 * (`target: { http: ..., mqtt: ... }`) or any other client at it. Runs until SIGINT/SIGTERM, then
 * closes every socket and exits 130/143 through process.exitCode.
 */

interface BackendFlags {
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

export function register(program: Command): void {
  program
    .command('backend')
    .description('run the embedded reference fleet backend (HTTP fleet API + MQTT broker) until interrupted')
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--http-port <n>', 'HTTP API port (0 = any free port)', '0')
    .option('--mqtt-port <n>', 'MQTT broker port (0 = any free port)', '0')
    .option('--fleet-key <key>', 'fleet key devices provision with (default: a random one, printed)')
    .option('--no-mqtt', 'serve the HTTP API only')
    .option('-v, --verbose', 'print broker and HTTP diagnostics to stderr')
    .action(async (flags: BackendFlags) => {
      const httpPort = parsePort('--http-port', flags.httpPort);
      const mqttPort = parsePort('--mqtt-port', flags.mqttPort);
      if (flags.fleetKey !== undefined && flags.fleetKey.length === 0) {
        throw new FleetsimError('FLEETSIM_E_USAGE', '--fleet-key must not be empty', { hint: 'omit it to get a random key' });
      }
      const fleetKey = flags.fleetKey ?? randomBytes(12).toString('base64url');
      const backend = await startEmbeddedBackend({
        fleetKey,
        host: flags.host,
        httpPort,
        mqttPort,
        mqtt: flags.mqtt,
        log: flags.verbose ? (line) => process.stderr.write(line + '\n') : undefined,
      });
      const out = process.stdout;
      out.write(`fleetsim embedded backend\n`);
      out.write(`  http       ${backend.httpUrl}\n`);
      if (backend.mqttUrl) out.write(`  mqtt       ${backend.mqttUrl}\n`);
      out.write(`  fleet key  ${fleetKey}\n`);
      out.write(`  stats      ${backend.httpUrl}/v1/stats/devices?summary=1\n`);
      out.write(`press Ctrl+C to stop\n`);

      const signal = await new Promise<NodeJS.Signals>((resolve) => {
        const on = (sig: NodeJS.Signals): void => {
          process.off('SIGINT', on);
          process.off('SIGTERM', on);
          resolve(sig);
        };
        process.on('SIGINT', on);
        process.on('SIGTERM', on);
      });
      const { totals } = backend.stats();
      await backend.close();
      out.write(
        `\n${signal}: closed. devices ${totals.devices}, provisions ${totals.provisions}, polls ${totals.polls}, ` +
          `telemetry received ${totals.received} (duplicates ${totals.duplicates}, gaps ${totals.gaps})\n`,
      );
      process.exitCode = signal === 'SIGINT' ? 130 : 143;
    });
}
