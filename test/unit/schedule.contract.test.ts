/**
 * The Schedule contract suite (test/contracts/schedule.contract.ts) over both schedulers: the
 * wall clock (real timers, time scale 1) and the virtual clock (calendar queue, simulated time).
 */
import { VirtualScheduler } from '../../src/engine/clock/virtual-scheduler.js';
import { WallScheduler } from '../../src/engine/clock/wall-scheduler.js';
import { scheduleContract } from '../contracts/schedule.contract.js';
import { eventLoopTurns, waitFor } from '../helpers/wait-for.js';

scheduleContract('wall scheduler', (dispatch) => {
  const s = new WallScheduler(1, dispatch);
  return {
    schedule: s,
    start: () => s.start(Date.now()),
    until: (cond, what) => waitFor(cond, what),
    settle: () => eventLoopTurns(3),
    stop: () => s.stop(),
  };
});

scheduleContract('virtual scheduler', (dispatch) => {
  // The virtual clock's events run at its now (VirtualDispatch takes no time).
  const s: VirtualScheduler = new VirtualScheduler((kind, dev) => dispatch(kind, dev, s.now()));
  const STEP_MS = 1;
  let started = false;
  return {
    schedule: s,
    start: () => (started = true),
    async until(cond, what) {
      while (!cond()) {
        if (!started || s.pending === 0) throw new Error(`nothing left to run and still waiting for ${what}`);
        s.runUntil(s.now() + STEP_MS, STEP_MS, () => {});
      }
    },
    async settle() {
      s.runUntil(s.now() + STEP_MS, STEP_MS, () => {});
    },
    stop: () => s.clear(),
  };
});
