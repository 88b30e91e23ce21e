import type { ControlMessage } from './protocol.js';

/**
 * A shard's control messages, held until its runner registers a handler. The coordinator may
 * send `stop` to every shard as soon as one fails, while another is still setting up (building
 * its preset, importing code, making identities) and has no handler yet; dropped, that `stop`
 * left the shard waiting for a `start` that never comes and the run waiting for the shard's
 * `stopped` for ever. Held messages are delivered in order when the handler is registered.
 *
 * Concurrency: one per shard, on the shard's thread; `deliver` is called from the port's message
 * events, `onControl` from the runner, never at the same time.
 */
export class ControlInbox {
  private handler: ((msg: ControlMessage) => void) | undefined;
  private held: ControlMessage[] = [];

  deliver(msg: ControlMessage): void {
    if (this.handler) this.handler(msg);
    else this.held.push(msg);
  }

  onControl(handler: (msg: ControlMessage) => void): void {
    this.handler = handler;
    const held = this.held;
    this.held = [];
    for (const msg of held) handler(msg);
  }
}
