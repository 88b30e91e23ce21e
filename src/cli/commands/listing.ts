/**
 * What `fleetsim --help` lists for each command: its usage after the name and its one-line summary.
 * The list is printed from here without importing the commands (cli/program.ts registers a
 * placeholder per command); each command module takes its own description from here, and
 * test/unit/cli-command-listing.test.ts checks every usage against the arguments and options the
 * module registers, so the two cannot drift apart.
 */
export const COMMAND_LISTING = {
  run: { usage: '[options] <scenario>', summary: 'run a scenario and write its report to <out>/<run-id>/' },
  validate: { usage: '<scenario...>', summary: 'check scenario files and list every problem with file:line:col (exit 2 when any is invalid)' },
  plan: { usage: '[options] <scenario>', summary: 'show what a run would do: shards, device ranges, rates, connections and descriptors (opens nothing)' },
  profiles: { usage: '[options]', summary: 'list hardware profiles with their projected battery life; `profiles show NAME|PATH` prints one with its sources' },
  links: { usage: '[options]', summary: 'list the link models (ethernet, wifi, lte-m, nb-iot, lorawan, ...) with their figures and sources' },
  merge: { usage: '[options] <dirs...>', summary: 'merge the reports of every shard of a run (--shard i/N) into one report; exit 3 when a shard is missing' },
  sweep: { usage: '[options] <scenario>', summary: 'run a scenario at several fleet sizes and report where it stops scaling (exit 99 when any size fails thresholds)' },
  backend: { usage: '[options]', summary: 'run the embedded reference fleet backend, or a local fake of a platform (--preset), until interrupted' },
  report: { usage: '[options] <dir>', summary: 're-render report.html and junit.xml of a saved run from its summary.json and timeline.ndjson' },
  compare: { usage: '[options] <base> <current>', summary: 'compare a run against a baseline; exit 99 when a --max-regression rule is violated' },
  schema: { usage: '[options]', summary: 'print the scenario JSON Schema (for editors: yaml-language-server, VS Code)' },
  docs: { usage: '', summary: 'print the reference docs generated from the code: metrics (docs/metrics.md), defaults (README), links (docs/models.md)' },
} as const satisfies Record<string, { usage: string; summary: string }>;

export type CommandName = keyof typeof COMMAND_LISTING;
