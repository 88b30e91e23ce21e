#!/usr/bin/env node
import { Command, CommanderError } from 'commander';
import { FleetsimError, formatError } from '../errors/fleetsim-error.js';
import { VERSION } from '../version.js';
import { COMMANDS } from './commands/index.js';

/**
 * The fleetsim command line. `npm run build` bundles this module and everything it imports into
 * dist/cli/main.js, the `fleetsim` command (scripts/bundle-cli.mjs: one file to load instead of
 * ~300 modules); `node dist/cli/program.js` runs the same code as modules.
 *
 * This file and the command actions are the only places that decide exit codes;
 * `process.exitCode` is set (not `process.exit`) wherever possible so that open handles close and
 * output flushes.
 */
const program = new Command('fleetsim')
  .description('Fleet simulator and load-testing harness for IoT fleet backends')
  .version(VERSION)
  .showHelpAfterError('(run with --help for usage)')
  .exitOverride();

/**
 * The commands this command line needs: the one its first word names, none for `--version` alone,
 * and otherwise all of them (the list of `--help` or `help`, and commander's "did you mean" for a
 * mistyped name). Each command module brings the code its action runs (`run` the engine, `backend`
 * the servers, `validate` the scenario schemas), so importing only the named one keeps the rest off
 * every command's start (bench/RESULTS.md, "Commands loaded when named").
 */
async function registerCommands(args: readonly string[]): Promise<void> {
  const wanted = COMMANDS.find((c) => c.name === args[0]);
  const onlyVersion = args.length === 1 && (args[0] === '--version' || args[0] === '-V');
  const entries = wanted ? [wanted] : onlyVersion ? [] : COMMANDS;
  const modules = await Promise.all(entries.map((c) => c.load()));
  for (const m of modules) m.register(program);
}

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

registerCommands(process.argv.slice(2))
  .then(() => program.parseAsync(process.argv))
  .catch(fail);
