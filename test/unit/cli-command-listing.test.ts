import { Command, Help } from 'commander';
import { describe, expect, it } from 'vitest';
import { COMMANDS } from '../../src/cli/commands/index.js';
import { COMMAND_LISTING } from '../../src/cli/commands/listing.js';

/**
 * `fleetsim --help` lists the commands from commands/listing.ts without importing them
 * (cli/program.ts). The list must say what each command, once loaded, says of itself: the same
 * usage (its arguments, and `[options]` when it has any) and the same summary.
 */
describe('the command listing', () => {
  it('names every command once, and nothing else', () => {
    expect(Object.keys(COMMAND_LISTING).sort()).toEqual(COMMANDS.map((c) => c.name).sort());
    expect(new Set(COMMANDS.map((c) => c.name)).size).toBe(COMMANDS.length);
  });

  it.each(COMMANDS.map((c) => [c.name, c] as const))('%s: usage and summary as the loaded command registers them', async (name, entry) => {
    const program = new Command('fleetsim');
    (await entry.load()).register(program);
    const registered = program.commands.find((c) => c.name() === name);
    expect(registered).toBeDefined();
    const listed = COMMAND_LISTING[name];
    expect(`${name}${listed.usage ? ` ${listed.usage}` : ''}`).toBe(new Help().subcommandTerm(registered!));
    expect(listed.summary).toBe(registered!.description());
  });
});
