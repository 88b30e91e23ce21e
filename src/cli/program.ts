#!/usr/bin/env node
import { Command, CommanderError, Help } from 'commander';
import { FleetsimError, formatError } from '../errors/fleetsim-error.js';
import { VERSION } from '../version.js';
import { COMMANDS, type CommandEntry } from './commands/index.js';
import { COMMAND_LISTING } from './commands/listing.js';

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
 * The commands this command line needs: the one its first word names (or `help NAME`'s), none for
 * `--version` alone. Each command module brings the code its action runs (`run` the engine,
 * `backend` the servers, `validate` the scenario schemas), so importing only the named one keeps
 * the rest off every command's start (bench/RESULTS.md, "Commands loaded when named"). Every other
 * command line (`--help`, `help`, no command, a mistyped one) needs only their names and what the
 * list says of them: a placeholder per command, from commands/listing.ts, gives commander the
 * list and its "did you mean" without importing any command.
 */
async function registerCommands(args: readonly string[]): Promise<void> {
  const named = (word: string | undefined) => COMMANDS.find((c) => c.name === word);
  const wanted = named(args[0]);
  if (wanted) return (await wanted.load()).register(program);
  if (args.length === 1 && (args[0] === '--version' || args[0] === '-V')) return;
  // `help NAME` prints that command's own help, which only the command itself knows.
  const helpFor = args[0] === 'help' ? named(args[1]) : undefined;
  const real = helpFor ? await helpFor.load() : undefined;
  for (const c of COMMANDS) {
    if (c === helpFor) real!.register(program);
    else listOnly(c);
  }
}

/** A command that is listed and suggested but never runs (commander runs only the named command, which is loaded). */
function listOnly(c: CommandEntry): void {
  program
    .command(c.name)
    .description(COMMAND_LISTING[c.name].summary)
    .action(() => {
      throw new Error(`command '${c.name}' ran without being loaded`);
    });
}

// The list's "name usage" column from the listing, the same for loaded commands and placeholders
// (test/unit/cli-command-listing.test.ts checks it against each loaded command's own).
const listedTerm = new Help();
program.configureHelp({
  subcommandTerm: (cmd) => {
    // Only the program's own list: `docs` has subcommands named like top-level commands (`docs links`).
    const entry = cmd.parent === program ? (COMMAND_LISTING[cmd.name() as keyof typeof COMMAND_LISTING] as { usage: string } | undefined) : undefined;
    return entry ? `${cmd.name()}${entry.usage ? ` ${entry.usage}` : ''}` : listedTerm.subcommandTerm(cmd);
  },
});

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
