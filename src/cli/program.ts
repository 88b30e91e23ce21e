#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { FleetsimError, formatError } from '../errors/fleetsim-error.js';
import { VERSION } from '../version.js';
import { COMMANDS } from './commands/index.js';

/**
 * The fleetsim command line. `npm run build` bundles this module and everything it imports into
 * dist/cli/main.js, the `fleetsim` command (scripts/bundle-cli.mjs: one file to load instead of
 * ~300 modules); `node dist/cli/program.js` runs the same code as modules. This file and the command actions are the only places that decide
 * exit codes; `process.exitCode` is set (not `process.exit`) wherever possible so that open
 * handles close and output flushes.
 */
const program = new Command('fleetsim')
  .description('Fleet simulator and load-testing harness for IoT fleet backends')
  .version(VERSION)
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

for (const register of COMMANDS) register(program);

function fail(err: unknown): void {
  if (err instanceof FleetsimError) {
    process.stderr.write(formatError(err) + '\n');
    process.exitCode = err.exitCode;
    return;
  }
  if (err instanceof CommanderError) {
    // commander already printed its message; help and version are not errors.
    process.exitCode = err.code === 'commander.helpDisplayed' || err.code === 'commander.version' || err.code === 'commander.help' ? 0 : 2;
    return;
  }
  const e = err as Error;
  process.stderr.write(`error FLEETSIM_E_INTERNAL: ${e?.message ?? String(err)}\n`);
  process.stderr.write('  hint: this is a bug in fleetsim; rerun with FLEETSIM_DEBUG=1 for a stack trace and report it.\n');
  if (process.env.FLEETSIM_DEBUG) process.stderr.write(`${e?.stack}\n`);
  process.exitCode = 1;
}

program.parseAsync(process.argv).catch(fail);
