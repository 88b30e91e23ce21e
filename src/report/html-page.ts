import { escapeHtml as e } from './escape.js';

/**
 * The document shell every fleetsim HTML page shares: charset, viewport, a Content-Security-Policy
 * that forbids every network fetch (the page must be self-contained), the generator tag and the
 * inline stylesheet. `body` and `tail` are trusted markup: callers escape their own strings.
 */
export interface PageParts {
  /** Plain text; escaped here. */
  title: string;
  version: string;
  css: string;
  /** Allow inline scripts (report.html draws its plots; static pages do not need them). */
  scripts: boolean;
  body: string;
  /** Markup after `<main>`: data blocks and scripts. */
  tail?: string;
}

export function pageCsp(scripts: boolean): string {
  return `default-src 'none'; style-src 'unsafe-inline';${scripts ? " script-src 'unsafe-inline';" : ''} img-src data:; base-uri 'none'; form-action 'none'`;
}

export function renderPage(p: PageParts): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${pageCsp(p.scripts)}">
<meta name="generator" content="fleetsim ${e(p.version)}">
<title>${e(p.title)}</title>
<style>${p.css}</style>
</head>
<body>
<main>
${p.body}
</main>
${p.tail ?? ''}
</body>
</html>
`;
}
