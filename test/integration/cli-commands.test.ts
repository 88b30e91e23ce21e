import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, test } from 'vitest';
import { COMMANDS } from '../../src/cli/commands/index.js';
import { ROOT, runCli } from '../helpers/cli.js';

/**
 * The command line as a whole, with commands loaded only when a command line names them
 * (cli/program.ts): `--version` loads none, `--help` and a mistyped name list them from
 * commands/listing.ts without loading any, a named command (or `help NAME`) loads itself. Each
 * must still say what it always said.
 */
describe('fleetsim --version, --help and command names', () => {
  test('--version and -V print the package version and exit 0', async () => {
    const { version } = JSON.parse(readFileSync(path.join(ROOT, 'package.json'), 'utf8')) as { version: string };
    for (const flag of ['--version', '-V']) {
      const r = await runCli([flag]);
      expect(r.stdout, flag).toBe(`${version}\n`);
      expect(r.stderr, flag).toBe('');
      expect(r.code, flag).toBe(0);
    }
  });

  test('--help lists every command, in order, and exits 0, wherever a command name follows it', async () => {
    for (const args of [['--help'], ['-h', 'run']]) {
      const r = await runCli(args);
      expect(r.code, args.join(' ')).toBe(0);
      const listed = [...r.stdout.matchAll(/^ {2}([a-z]+)\b/gm)].map((m) => m[1]).filter((n) => n !== 'help');
      expect(listed, args.join(' ')).toEqual(COMMANDS.map((c) => c.name));
    }
  });

  test('each command answers its own --help', async () => {
    const answers = await Promise.all(COMMANDS.map((c) => runCli([c.name, '--help'])));
    answers.forEach((r, i) => {
      expect(r.stdout, COMMANDS[i].name).toMatch(new RegExp(`^Usage: fleetsim ${COMMANDS[i].name} `));
      expect(r.code, COMMANDS[i].name).toBe(0);
    });
  });

  test('help NAME prints that command\'s own help, not the list', async () => {
    for (const name of ['run', 'docs']) {
      const r = await runCli(['help', name]);
      expect(r.stdout, name).toMatch(new RegExp(`^Usage: fleetsim ${name} `));
      expect(r.code, name).toBe(0);
    }
    // `docs links` is not the top-level `links`: its own usage, not the list's.
    expect((await runCli(['help', 'docs'])).stdout).toMatch(/^ {2}links \[options\] +print the link figures table/m);
  });

  test('a mistyped command is refused with a suggestion, exit 2', async () => {
    const r = await runCli(['vaildate', 'scenarios/smoke.yaml']);
    expect(r.stderr).toContain("unknown command 'vaildate'");
    expect(r.stderr).toContain('validate');
    expect(r.code).toBe(2);
  });
});
