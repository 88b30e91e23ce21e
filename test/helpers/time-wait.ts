import { readFileSync } from 'node:fs';

/**
 * The IPv4 TCP connections of this machine in TIME_WAIT, from /proc/net/tcp (state 06): whose
 * side of a closed connection holds it shows who closed first.
 */
export function timeWaitIPv4(): Array<{ localPort: number; remotePort: number }> {
  const rows = readFileSync('/proc/net/tcp', 'utf8').trim().split('\n').slice(1);
  const out: Array<{ localPort: number; remotePort: number }> = [];
  for (const row of rows) {
    const [, local, remote, state] = row.trim().split(/\s+/);
    if (state !== '06') continue;
    out.push({ localPort: parseInt(local.split(':')[1], 16), remotePort: parseInt(remote.split(':')[1], 16) });
  }
  return out;
}
