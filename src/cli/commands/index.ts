import type { Command } from 'commander';
import type { CommandName } from './listing.js';
/** Every CLI command registers itself (its options, help and action) through one function. */
export type RegisterCommand = (program: Command) => void;

/**
 * A command's name (`fleetsim <name>`) and its module, imported only when a command line needs it
 * (cli/program.ts). What `--help` lists for it is in listing.ts.
 */
export interface CommandEntry {
  readonly name: CommandName;
  readonly load: () => Promise<{ register: RegisterCommand }>;
}

/** In the order `--help` shows them. */
export const COMMANDS: readonly CommandEntry[] = [
  { name: 'run', load: () => import('./run.js') },
  { name: 'validate', load: () => import('./validate.js') },
  { name: 'plan', load: () => import('./plan.js') },
  { name: 'profiles', load: () => import('./profiles.js') },
  { name: 'links', load: () => import('./links.js') },
  { name: 'merge', load: () => import('./merge.js') },
  { name: 'sweep', load: () => import('./sweep.js') },
  { name: 'backend', load: () => import('./backend.js') },
  { name: 'report', load: () => import('./report.js') },
  { name: 'compare', load: () => import('./compare.js') },
  { name: 'schema', load: () => import('./schema.js') },
  { name: 'docs', load: () => import('./docs.js') },
];
