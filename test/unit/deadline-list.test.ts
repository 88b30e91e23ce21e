import { describe, expect, it } from 'vitest';
import { DeadlineList, type Deadlined } from '../../src/drivers/http/deadline-list.js';
import { eventLoopTurns, waitFor } from '../helpers/wait-for.js';

class Entry implements Deadlined<Entry> {
  deadline = 0;
  prev: Entry | null = null;
  next: Entry | null = null;
  linked = false;
  constructor(readonly id: number) {}
}

describe('DeadlineList (the HTTP transports\' request deadlines)', () => {
  it('shift takes entries in the order they were added; remove unlinks from head, middle and tail', () => {
    const list = new DeadlineList<Entry>(60_000, () => undefined);
    const e = [0, 1, 2, 3, 4].map((i) => new Entry(i));
    for (const x of e) list.add(x);
    expect(e.every((x) => x.linked)).toBe(true);
    list.remove(e[0]);
    list.remove(e[2]);
    list.remove(e[4]);
    list.remove(e[4]); // not on the list: nothing
    expect([e[0], e[2], e[4]].map((x) => x.linked)).toEqual([false, false, false]);
    expect(list.shift()?.id).toBe(1);
    expect(list.shift()?.id).toBe(3);
    expect(list.shift()).toBeNull();
    expect(e.some((x) => x.linked || x.prev !== null || x.next !== null)).toBe(false);
    list.stop();
  });

  it('expires entries whose deadline passed, oldest first, off the list when called back; a removed one never expires', async () => {
    const expired: number[] = [];
    const list = new DeadlineList<Entry>(20, (x) => {
      expect(x.linked).toBe(false);
      expired.push(x.id);
    });
    const e = [0, 1, 2].map((i) => new Entry(i));
    for (const x of e) list.add(x);
    list.remove(e[1]);
    await waitFor(() => expired.length === 2, 'two expiries');
    expect(expired).toEqual([0, 2]);
    expect(list.shift()).toBeNull();
    list.stop();
  });

  it('an entry added from inside an expiry callback expires later too', async () => {
    const expired: number[] = [];
    const list = new DeadlineList<Entry>(10, (x) => {
      expired.push(x.id);
      if (x.id === 0) list.add(new Entry(1));
    });
    list.add(new Entry(0));
    await waitFor(() => expired.length === 2, 'the entry added during expiry to expire');
    expect(expired).toEqual([0, 1]);
    list.stop();
  });

  it('after stop nothing expires and the entries stay for the owner to drain', async () => {
    const expired: number[] = [];
    const list = new DeadlineList<Entry>(1, (x) => expired.push(x.id));
    const a = new Entry(7);
    list.add(a);
    list.stop();
    const start = performance.now();
    await waitFor(() => performance.now() - start > 5, 'the deadline to pass');
    await eventLoopTurns();
    expect(expired).toEqual([]);
    expect(list.shift()).toBe(a);
  });
});
