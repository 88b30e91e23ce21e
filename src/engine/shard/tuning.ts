/**
 * The settings fleetsim picks for a run rather than the scenario: every number the engine gives
 * a shard's fleet, drivers and coordinator that a scenario does not set, named and with its
 * reason, in one place. Changing one changes results (the virtual-clock summaries of
 * bench/summary-identity.mjs show by how much).
 */

/**
 * Messages a device holds while it cannot send before dropping the oldest: store-and-forward
 * firmware keeps a bounded ring in flash or RAM; 1000 reports is hours of a typical sensor's
 * telemetry, so a run sees drops only in long outages.
 */
export const DEVICE_BUFFER_CAPACITY = 1000;

/**
 * Messages a device flushes per turn after reconnecting, so one device with a full buffer cannot
 * hold the shard's thread; the rest follow on the next turns (a burst, not an unbounded loop).
 */
export const FLUSH_BURST = 64;

/**
 * Wall clock: how long a connect (TCP + TLS + CONNACK) or an HTTP request may take before it
 * counts as failed (a timeout, under its own cause). Shorter than mqtt.js's 30 s default
 * `connectTimeout` so that a stalled backend shows within a short run, and still orders of
 * magnitude above a healthy backend's p99.
 */
export const CONNECT_TIMEOUT_MS = 10_000;
export const HTTP_TIMEOUT_MS = 10_000;

// The link model's retransmission timeout and tries are TCP's, in models/link.ts (initialRtoMs, TCP_MAX_TRIES).

/** Wall ms the coordinator waits for in-flight acks after `stop` (RunOptions.drainMs overrides). */
export const DEFAULT_DRAIN_MS = 3000;

/**
 * Lead time between the coordinator's `start` and t = 0, so every shard has the message before
 * its first event; the wall-clock end timer gets the same margin.
 */
export const START_LEAD_MS = 50;

/**
 * Virtual clock: events a shard runs between turns of its event loop. A window can hold billions
 * of events (a dense fleet over a long snapshot interval); between slices the shard sees control
 * messages, so SIGINT or SIGTERM stops it within a fraction of a second (2^18 events take
 * ~0.1-0.2 s at the 1.3-2.6M events/s bench/RESULTS.md measured per shard), at the cost of one
 * setImmediate per slice.
 */
export const VIRTUAL_EVENTS_PER_TURN = 1 << 18;

/**
 * Virtual clock: events a shard's queue is sized for per device before the run (the calendar
 * queue's block store, engine/clock/calendar-queue.ts). A device has about two pending at the
 * start (its power-on and its link's first flip) and two or three while it runs (its next report,
 * the flip, a reply of the backend model). Sizing only: results do not depend on it, and pages
 * the queue never uses cost no memory.
 */
export const PENDING_EVENTS_PER_DEVICE = 3;

/**
 * Wall clock: least wall time between two wakes of a shard's scheduler for events still in the
 * future. A shard process holding ~19,000 sessions that publish once a minute has ~320 events a
 * second spread evenly, so without a quantum nearly every event is its own wake of the event loop
 * (a return from epoll, Node's timer phase, a context switch among dozens of processes on a few
 * cores); 20 ms lets the events due inside it run in one turn and their acks come back together.
 * Events run late by less than it, and that lateness counts as schedule lag (100 times below the
 * 2 s default `maxScheduleLag`).
 */
export const WALL_WAKE_QUANTUM_MS = 20;

/**
 * Wall clock: resolution of the shard's event-loop delay monitor (perf_hooks). Its timer is a
 * libuv timer of its own, not in phase with the scheduler's, so it wakes the loop at this period
 * whatever the fleet does: at 20 ms, 50 wakes a second per shard process, 1,300 on the 500k
 * layout's 26. 100 ms still shows the stalls the gauge is there for (hundreds of ms and more: a
 * stall delays the monitor's next sample by its own length, whatever the period), with 10
 * samples a second for the p99 of a 2 s timeline interval. CPU of an otherwise idle Node process
 * with the monitor on, beyond one without it (3 runs side by side, load ~28, bench/RESULTS.md,
 * "Hold CPU of the shard processes and their brokers"): 3.0-3.4 ms per second at 20 ms,
 * 1.3-1.4 at 100 ms, ~1.0 at 250 ms, ~0.6 at 1 s.
 */
export const LOOP_DELAY_RESOLUTION_MS = 100;
