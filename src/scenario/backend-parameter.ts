import { FleetsimError } from '../errors/fleetsim-error.js';
import { BACKEND_OPS, serversForCapacity, type BackendOp } from '../models/backend-queue.js';
import type { ResolvedScenario } from './resolved.js';

/** A parameter of the modelled backend a sweep can vary: an operation's servers, or its capacity in operations per second. */
export interface BackendParameter {
  /** As written, e.g. backend.connect.servers */
  name: string;
  op: BackendOp;
  field: 'servers' | 'capacity';
}

const HINT = `write --over backend.<operation>.servers=2,4,8,16 (or .capacity=100,200,400 in operations per second); operations: ${BACKEND_OPS.join(', ')}`;

/** Parses `backend.connect.servers=2,4,8,16` (or `…=2..16` for every whole number between) into the parameter and its ascending values. */
export function parseBackendSweep(text: string): { parameter: BackendParameter; values: number[] } {
  const m = /^\s*backend\.([a-z]+)\.(servers|capacity)\s*=\s*(.+)$/.exec(text);
  const op = m?.[1] as BackendOp | undefined;
  if (!m || !op || !BACKEND_OPS.includes(op)) throw new FleetsimError('FLEETSIM_E_USAGE', `--over ${text}: not a backend parameter and its values`, { hint: HINT });
  const field = m[2] as 'servers' | 'capacity';
  const range = /^\s*(\d+)\s*\.\.\s*(\d+)\s*$/.exec(m[3]);
  const values = range ? Array.from({ length: Math.max(0, Number(range[2]) - Number(range[1]) + 1) }, (_, i) => Number(range[1]) + i) : m[3].split(',').map((v) => Number(v.trim()));
  if (values.length === 0 || values.some((v) => !(v > 0) || (field === 'servers' && !Number.isInteger(v)))) {
    throw new FleetsimError('FLEETSIM_E_USAGE', `--over ${text}: values must be ${field === 'servers' ? 'whole numbers of servers, at least 1' : 'operations per second above 0'}`, { hint: HINT });
  }
  return { parameter: { name: `backend.${op}.${field}`, op, field }, values: [...new Set(values)].sort((a, b) => a - b) };
}

/** The scenario with the parameter set to `value` (the operation then queues). */
export function withBackendParameter(s: ResolvedScenario, p: BackendParameter, value: number): ResolvedScenario {
  const op = s.backend.ops[p.op];
  const servers = p.field === 'servers' ? value : serversForCapacity(value, op.service);
  return { ...s, backend: { ...s.backend, ops: { ...s.backend.ops, [p.op]: { ...op, servers } } } };
}
