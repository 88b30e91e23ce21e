import type { Command } from 'commander';
import { register as report } from './report.js';
import { register as compare } from './compare.js';
import { register as backend } from './backend.js';
import { register as run } from './run.js';
import { register as merge } from './merge.js';
import { register as sweep } from './sweep.js';
import { register as validate } from './validate.js';
import { register as plan } from './plan.js';
import { register as schema } from './schema.js';
import { register as profiles } from './profiles.js';
import { register as docs } from './docs.js';
import { register as links } from './links.js';

/**
 * Every CLI command registers itself through one function. Keep this list in the order `--help`
 * should show them.
 */
export type RegisterCommand = (program: Command) => void;

export const COMMANDS: RegisterCommand[] = [
  run,
  validate,
  plan,
  profiles,
  links,
  merge,
  sweep,
  backend,
  report,
  compare,
  schema,
  docs,
];
