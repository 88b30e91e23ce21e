import { describe, expect, test } from 'vitest';
import { ControlInbox } from '../../src/engine/shard/control-inbox.js';
import type { ControlMessage } from '../../src/engine/shard/protocol.js';

describe('a shard control inbox', () => {
  test('holds what arrives before the runner listens and hands it over in order, then passes messages straight through', () => {
    // The coordinator stops every shard when one fails, possibly while another is still setting
    // up: that stop was dropped and the run waited for the shard for ever.
    const inbox = new ControlInbox();
    const stop: ControlMessage = { type: 'stop', reason: 'error' };
    const start: ControlMessage = { type: 'start', startAtMs: 5 };
    inbox.deliver(start);
    inbox.deliver(stop);
    const seen: ControlMessage[] = [];
    inbox.onControl((m) => seen.push(m));
    expect(seen).toEqual([start, stop]);
    inbox.deliver(stop);
    expect(seen).toEqual([start, stop, stop]);
  });
});
