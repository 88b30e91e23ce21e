import type { Command } from 'commander';

/**
 * Every CLI command registers itself through one function. Keep this list in the order `--help`
 * should show them.
 */
export type RegisterCommand = (program: Command) => void;

export const COMMANDS: RegisterCommand[] = [
];
