import { writeFileSync } from 'node:fs';
import type { Command } from 'commander';
import { FleetsimError } from '../../errors/fleetsim-error.js';
import { renderProfileJsonSchema } from '../../scenario/profile-schema.js';
import { renderScenarioJsonSchema } from '../../scenario/schema.js';
import { renderProtocolJsonSchema } from '../../protocol/schema.js';
import { COMMAND_LISTING } from './listing.js';

export function register(program: Command): void {
  program
    .command('schema')
    .description(COMMAND_LISTING.schema.summary)
    .option('-o, --out <file>', 'write it to a file instead (the repository keeps it in schema/scenario.schema.json)')
    .option('--profile', 'the hardware profile JSON Schema instead (schema/profile.schema.json)')
    .option('--protocol', 'the protocol file JSON Schema instead (schema/protocol.schema.json)')
    .action((flags: { out?: string; profile?: boolean; protocol?: boolean }) => {
      if (flags.profile && flags.protocol) throw new FleetsimError('FLEETSIM_E_USAGE', '--profile and --protocol ask for different schemas', { hint: 'give one of them' });
      const text = flags.profile ? renderProfileJsonSchema() : flags.protocol ? renderProtocolJsonSchema() : renderScenarioJsonSchema();
      if (!flags.out) {
        process.stdout.write(text);
        return;
      }
      try {
        writeFileSync(flags.out, text);
      } catch (err) {
        throw new FleetsimError('FLEETSIM_E_USAGE', `--out: cannot write ${flags.out}: ${(err as Error).message}`, {
          hint: 'check that the directory exists and is writable',
          cause: err,
        });
      }
      process.stderr.write(`wrote ${flags.out}\n`);
    });
}
