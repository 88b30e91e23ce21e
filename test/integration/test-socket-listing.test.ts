/**
 * The socket listing the transport tests assert with (test/helpers/mqtt-events.ts) counts the
 * client's sockets only. CI once saw a second address in "connects from the requested source
 * address": a client bound to 127.0.0.2 got the in-process broker's own port number as its local
 * port, and the broker's accepted socket then had that number as its remote port.
 */
import net from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { localAddressesTo, localPortsTo, socketsTo } from '../helpers/mqtt-events.js';
import { waitFor } from '../helpers/wait-for.js';

describe('the test helpers that list sockets to a port', () => {
  const cleanup: (() => void)[] = [];
  afterEach(() => {
    for (const done of cleanup.splice(0)) done();
  });

  it('list the client only, when the client on 127.0.0.2 has the listening port number as its own', async () => {
    const accepted: net.Socket[] = [];
    const server = net.createServer((s) => accepted.push(s));
    cleanup.push(() => server.close());
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as net.AddressInfo).port;
    // The same number on another address: a bind the kernel allows, which port 0 can also pick.
    const client = net.connect({ host: '127.0.0.1', port, localAddress: '127.0.0.2', localPort: port });
    cleanup.push(() => {
      client.destroy();
      for (const s of accepted) s.destroy();
    });
    await new Promise<void>((resolve, reject) => client.once('connect', resolve).once('error', reject));
    await waitFor(() => accepted.length === 1, 'the accepted socket');
    expect(accepted[0].remotePort).toBe(port); // the case: the server's socket looks like one "to" the port
    expect(localAddressesTo(port)).toEqual(['127.0.0.2']);
    expect(localPortsTo(port)).toEqual([port]);
    expect(socketsTo(port)).toBe(1);
  });
});
