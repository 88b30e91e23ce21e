import { readFileSync } from 'node:fs';
import { packagePath } from './package-files.js';

const pkg = JSON.parse(readFileSync(packagePath('package.json'), 'utf8')) as { version: string };
export const VERSION: string = pkg.version;
