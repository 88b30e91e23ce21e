import { mkdir, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Writes a file through a temporary sibling and a rename, so that a reader (a CI step picking up
 * junit.xml, a browser reloading report.html) never sees half a file.
 */
export async function writeFileAtomic(dir: string, file: string, data: string): Promise<void> {
  await mkdir(dir, { recursive: true });
  const target = join(dir, file);
  const tmp = `${target}.${process.pid}.${Math.random().toString(36).slice(2)}.tmp`;
  await writeFile(tmp, data, 'utf8');
  await rename(tmp, target);
}
