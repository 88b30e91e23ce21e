// Self costs per code location from a callgrind output file written with --dump-instr=yes (the
// format: valgrind's docs, "Callgrind Format Specification"). Code valgrind has no symbol for (V8's
// compiled JavaScript) is named through `nameOf(address)` (bench/lib/jitdump.mjs); native code keeps
// its function name. bench/virtual-callgrind.mjs uses it.
import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';

/**
 * Resolves with { names: [event names], total: [sum per event name], self: Map(location -> [cost per event name]) }.
 * Costs of call lines (the callee's inclusive cost, after `calls=`) are not self costs and are skipped.
 */
export async function selfCosts(file, nameOf) {
  const names = new Map();
  const self = new Map();
  let events = ['Ir'];
  let total;
  let positions = 1;
  let fn = '';
  let jit = false;
  let address = 0;
  let skipNext = false;
  const add = (key, costs) => {
    let s = self.get(key);
    if (!s) self.set(key, (s = new Array(events.length).fill(0)));
    for (let i = 0; i < costs.length; i++) {
      s[i] += costs[i];
      total[i] += costs[i];
    }
  };
  for await (const line of createInterface({ input: createReadStream(file), crlfDelay: Infinity })) {
    const c = line.charCodeAt(0);
    // A cost line starts with a position: a number, or +, -, * (relative to the last one).
    if ((c >= 48 && c <= 57) || c === 43 || c === 45 || c === 42) {
      const parts = line.split(' ');
      const p = parts[0];
      if (p.startsWith('0x')) address = parseInt(p, 16);
      else if (c === 43) address += Number(p.slice(1));
      else if (c === 45) address -= Number(p.slice(1));
      else if (c !== 42) address = Number(p);
      if (skipNext) {
        skipNext = false;
        continue;
      }
      const costs = parts.slice(positions).map(Number);
      add(jit ? nameOf(address) : fn, costs);
      continue;
    }
    if (line.startsWith('fn=')) {
      const m = /^fn=\((\d+)\)(?: (.*))?$/.exec(line);
      const name = m ? (m[2] !== undefined ? (names.set(m[1], m[2]), m[2]) : names.get(m[1])) : line.slice(3);
      jit = name === '???' || /^0x[0-9a-f]+$/.test(name);
      fn = `native ${name}`;
    } else if (line.startsWith('cfn=')) {
      const m = /^cfn=\((\d+)\) (.*)$/.exec(line);
      if (m) names.set(m[1], m[2]);
    } else if (line.startsWith('calls=')) skipNext = true;
    else if (line.startsWith('events:')) {
      events = line.slice(7).trim().split(/\s+/);
      total = new Array(events.length).fill(0);
    } else if (line.startsWith('positions:')) positions = line.slice(10).trim().split(/\s+/).length;
  }
  return { names: events, total, self };
}
