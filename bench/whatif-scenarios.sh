#!/bin/sh
# Wall and CPU time (user + system, every thread and child of the run) of the issue-16 what-if
# scenarios as the README runs them: `node dist/cli/main.js run <scenario> --quiet`, RUNS times
# each (default 3), with the load average before each run. Prints one line per run:
#   scenario run wall_s user_s sys_s load1_before
# Usage: sh bench/whatif-scenarios.sh [scenario.yaml ...]   (from the repository root, after npm run build)
set -eu
RUNS=${RUNS:-3}
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
[ $# -gt 0 ] || set -- scenarios/fleet-5-years.yaml scenarios/data-cost.yaml scenarios/backend-sizing.yaml
echo "# $(date -u +%Y-%m-%dT%H:%MZ) $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //') x $(nproc) cores, node $(node --version)"
for s in "$@"; do
  i=1
  while [ "$i" -le "$RUNS" ]; do
    load=$(cut -d' ' -f1 /proc/loadavg)
    /usr/bin/time -f '%e %U %S' -o "$OUT/time" node dist/cli/main.js run "$s" --quiet --out "$OUT/reports" >/dev/null 2>"$OUT/stderr" || { echo "$s run $i failed:"; cat "$OUT/stderr"; }
    echo "$s $i $(cat "$OUT/time") $load"
    i=$((i + 1))
  done
done
