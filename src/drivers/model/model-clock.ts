/** The part of the scheduler the model driver needs (drivers never import engine/). */
export interface ModelClock {
  now(): number;
  at(timeMs: number, dev: number, kind: number): void;
  /** A device-local event, which may run late (engine/clock/virtual-scheduler.ts `defer`); needed only for deferAcks. */
  defer?(timeMs: number, dev: number, kind: number): void;
}
