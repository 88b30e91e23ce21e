/**
 * Milliseconds since the Unix epoch that never step: this thread's time origin (the wall clock
 * read once, when the thread started) plus the monotonic clock's elapsed time since.
 *
 * Why not `Date.now()`: the system clock steps when it is synchronised (NTP, or a virtual machine
 * resumed after its host paused it). A wall-clock run measured on `Date.now()` read a 10.7 s step
 * forward as 10.7 s of generator lag in every shard at once (the run judged invalid, 458 power-ons
 * fired in one second to catch up), and a step backward would stall it. Every thread and process
 * of a run reads its start time (epoch ms, sent by the coordinator) and the time since it on this
 * clock, so a step after they started changes nothing; they agree with each other to within the
 * difference of their origins' wall-clock readings.
 */
export function epochNow(): number {
  return performance.timeOrigin + performance.now();
}
