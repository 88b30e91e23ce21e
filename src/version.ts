import { PACKAGE_MANIFEST } from './package-files.js';

export const VERSION: string = PACKAGE_MANIFEST.version;
