import type { DeviceCredentials, HttpRequestSpec, Preset } from '../../src/drivers/preset.js';

/** One request as the wire driver would send it for a preset: its path on `baseUrl` (or absolute), its authorization or the device's, its headers. */
export async function sendSpec(baseUrl: string, preset: Preset, spec: HttpRequestSpec, creds?: DeviceCredentials, extra: Record<string, string> = {}): Promise<{ status: number; body: string; headers: Headers; sent: HttpRequestSpec }> {
  const headers: Record<string, string> = { ...extra };
  const auth = spec.authorization ?? (creds ? preset.authorization(creds) : undefined);
  if (auth) headers.authorization = auth;
  if (spec.body !== undefined) headers['content-type'] = 'application/json';
  for (let i = 0; i + 1 < (spec.headers?.length ?? 0); i += 2) headers[spec.headers![i]] = spec.headers![i + 1];
  const url = /^https?:\/\//.test(spec.path) ? spec.path : baseUrl + spec.path;
  const r = await fetch(url, { method: spec.method, headers, body: spec.body });
  return { status: r.status, body: await r.text(), headers: r.headers, sent: spec };
}

/** The request(s) of a state report, as a list. */
export function specs(s: HttpRequestSpec | readonly HttpRequestSpec[] | undefined): readonly HttpRequestSpec[] {
  return s === undefined ? [] : Array.isArray(s) ? (s as readonly HttpRequestSpec[]) : [s as HttpRequestSpec];
}
