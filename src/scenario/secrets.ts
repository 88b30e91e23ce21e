import { readFileSync } from 'node:fs';
import path from 'node:path';
import type { Parsed } from '../models/units.js';

/**
 * Secrets in a scenario's target section: a value written as `${env:NAME}` comes from the
 * environment, `${file:path}` from a file (relative to the scenario; one trailing newline is
 * dropped). Anything else is taken literally. The resolved value lives only in the resolved
 * scenario's target, which no report, log line or summary prints; the missing-secret message
 * names the variable or file, never a value.
 */

const SECRET_REF = /^\$\{(env|file):([^}]+)\}$/;
export const SECRET_MISSING = 'FLEETSIM_E_SECRET_MISSING';
export const SECRET_HINT = 'write ${env:NAME} to read the environment variable NAME, or ${file:path} to read a file relative to the scenario';

/** The reference a value makes, if it is one. */
export function secretRef(text: string): { kind: 'env' | 'file'; name: string } | undefined {
  const m = SECRET_REF.exec(text.trim());
  return m ? { kind: m[1] as 'env' | 'file', name: m[2].trim() } : undefined;
}

/** The value of `text`: itself, or the secret it refers to. */
export function readSecret(text: string, baseDir: string, env: NodeJS.ProcessEnv = process.env): Parsed<string> {
  const ref = secretRef(text);
  if (ref === undefined) {
    if (/\$\{(env|file):/.test(text)) return { ok: false, message: `"${text}" is not a whole secret reference (${SECRET_MISSING})`, hint: SECRET_HINT };
    return { ok: true, value: text };
  }
  if (ref.kind === 'env') {
    const v = env[ref.name];
    if (v === undefined || v === '') return { ok: false, message: `environment variable ${ref.name} is not set (${SECRET_MISSING})`, hint: `export ${ref.name}=... before running, or write the value in a file and use \${file:path}` };
    return { ok: true, value: v };
  }
  const file = path.resolve(baseDir, ref.name);
  try {
    const v = readFileSync(file, 'utf8').replace(/\r?\n$/, '');
    if (v === '') return { ok: false, message: `secret file ${ref.name} is empty (${SECRET_MISSING})`, hint: 'put the secret in the file, on one line' };
    return { ok: true, value: v };
  } catch (err) {
    return { ok: false, message: `secret file ${ref.name} cannot be read: ${(err as NodeJS.ErrnoException).code ?? 'error'} (${SECRET_MISSING})`, hint: `create ${file}, or use \${env:NAME}` };
  }
}
