/**
 * The status page for people (`GET /`): one HTML page, its script and style, and uPlot's
 * built files from node_modules, all served from here so the page works with no network but
 * this server's. The page reads the JSON API (/v1/status, /v1/history, /v1/changes) every
 * couple of seconds and calls the admin endpoints with the token typed into it.
 */
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

interface Asset {
  readonly type: string;
  /** Where the file is: read on first request, then kept. */
  readonly path: () => string;
}

const require = createRequire(import.meta.url);
const own = (file: string) => () => fileURLToPath(new URL(`./page/${file}`, import.meta.url));

/** Path -> asset. */
const ASSETS: Readonly<Record<string, Asset>> = {
  '/': { type: 'text/html; charset=utf-8', path: own('index.html') },
  '/ui/page.js': { type: 'text/javascript; charset=utf-8', path: own('page.js') },
  '/ui/page.css': { type: 'text/css; charset=utf-8', path: own('page.css') },
  '/ui/uplot.js': { type: 'text/javascript; charset=utf-8', path: () => require.resolve('uplot/dist/uPlot.iife.min.js') },
  '/ui/uplot.css': { type: 'text/css; charset=utf-8', path: () => require.resolve('uplot/dist/uPlot.min.css') },
};

/**
 * Only this server's own scripts, styles and API; no inline script, no framing, no forms
 * posted elsewhere. Inline style *attributes* stay blocked; uPlot sizes its elements through
 * the CSSOM, which CSP allows.
 */
export const PAGE_CSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'";

const cache = new Map<string, Buffer>();

/** The asset at `pathname`, or undefined when it is not one of the page's. Throws when its file cannot be read. */
export function pageAsset(pathname: string): { readonly type: string; readonly body: Buffer } | undefined {
  const asset = ASSETS[pathname];
  if (asset === undefined) return undefined;
  let body = cache.get(pathname);
  if (body === undefined) cache.set(pathname, (body = readFileSync(asset.path())));
  return { type: asset.type, body };
}
