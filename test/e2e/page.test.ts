/**
 * End to end, the status page in a real browser: Debian's chromium, driven by puppeteer-core,
 * against the real server serving a copy of the demo's zones, whose health-checked pools point
 * at real HTTP backends on loopback. The page lists the demo's load balancers; backends stopped
 * during the test show their origins down and the load balancer's answering pool change on the
 * same page (never reloaded); the admin buttons are refused without the token and act with it,
 * after a confirmation; a description carrying markup is shown as text. Skips where chromium
 * is not installed (`apt-get install chromium`; .ci/run installs it).
 *
 * STEERDNS_PAGE_SCREENSHOT=docs/status-page.png saves the page after the failover (the README's picture).
 */
import t, { type Test } from 'tap';
import http from 'node:http';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { pino } from 'pino';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { startApp, type App } from '../../src/app/app.js';
import { startApi, type RunningApi } from '../../src/api/http.js';
import { query } from '../helpers/client.js';

const CHROMIUM = [process.env.CHROMIUM, '/usr/bin/chromium', '/usr/bin/chromium-browser', '/usr/bin/google-chrome'].find((p): p is string => !!p && existsSync(p));
const TOKEN = 's3cret-page-token';
/** Markup in a pool description: must show as text, and run nothing. */
const MARKUP = `<script>window.__pwned = 1</script><img src=x onerror="window.__pwned = 2">Virginia`;

interface Backend { address: string; port: number; server?: http.Server }

function listen(b: Backend): Promise<void> {
  return new Promise((resolve, reject) => {
    const server = http.createServer((req, res) => res.writeHead(req.url === '/health' ? 200 : 404).end('ok'));
    server.once('error', reject);
    server.listen(b.port, b.address, () => {
      b.port = (server.address() as { port: number }).port;
      b.server = server;
      resolve();
    });
  });
}

function stop(b: Backend): Promise<void> {
  const s = b.server;
  b.server = undefined;
  if (!s) return Promise.resolve();
  s.closeAllConnections();
  return new Promise((r) => s.close(() => r()));
}

if (!CHROMIUM) {
  t.comment('chromium is not installed (apt-get install chromium): the status page browser test is skipped');
  t.pass('skipped: no chromium');
} else {
  const executablePath = CHROMIUM;
  const backends: Backend[] = ['127.0.0.91', '127.0.0.92', '127.0.0.93'].map((address) => ({ address, port: 0 }));
  const dir = mkdtempSync(join(tmpdir(), 'steerdns-page-'));
  let app: App;
  let api: RunningApi;
  let browser: Browser;
  let page: Page;
  let navigations = 0;
  let traffic: NodeJS.Timeout | undefined;
  /** How the next confirmation dialog is answered, and the messages seen. */
  let confirmAnswer = true;
  const dialogs: string[] = [];

  t.before(async () => {
    for (const b of backends) await listen(b);
    // The demo as `npm start` serves it, with its three backends here and a 1 s monitor interval.
    writeFileSync(join(dir, 'example.com.zone'), readFileSync('zones/example.com.zone'));
    let lb = readFileSync('zones/example.com.lb.yaml', 'utf8');
    backends.forEach((b, i) => (lb = lb.replace(`address: 127.0.0.1${i + 1}, port: 8080`, `address: ${b.address}, port: ${b.port}`)));
    lb = lb.replace('interval: 5 ', 'interval: 1 ').replace('description: Virginia', `description: '${MARKUP}'`);
    t.match(lb, /127\.0\.0\.93/, 'the demo configuration points at the test backends');
    writeFileSync(join(dir, 'example.com.lb.yaml'), lb);
    app = await startApp({ zonesDir: dir, listen: [{ host: '127.0.0.1', port: 0 }], log: pino({ level: 'silent' }), watchDebounceMs: 0, historyIntervalMs: 1000, identity: { serverId: 'page-test' } });
    api = await startApi({ host: '127.0.0.1', port: 0, token: TOKEN, app, log: pino({ level: 'silent' }) });
    await app.health.whenFirstRoundDone();
    // Queries all along, so the charts have traffic to show moving (bounded: at most 3000).
    let sent = 0;
    traffic = setInterval(() => {
      if (++sent > 3000) return clearInterval(traffic);
      void query(app.server.addresses[0].port, 'udp', 'web.example.com', 'A').catch(() => undefined);
    }, 40);
    browser = await puppeteer.launch({ executablePath, headless: true, args: ['--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage'] });
    page = await browser.newPage();
    await page.setViewport({ width: 1280, height: 900 });
    page.on('framenavigated', (f) => {
      if (f === page.mainFrame()) navigations++;
    });
    page.on('dialog', (d) => {
      dialogs.push(d.message());
      void (confirmAnswer ? d.accept() : d.dismiss());
    });
    await page.goto(`http://127.0.0.1:${api.port}/`, { waitUntil: 'load' });
  });

  t.teardown(async () => {
    clearInterval(traffic);
    await browser?.close();
    await api?.close();
    await app?.close();
    for (const b of backends) await stop(b);
    rmSync(dir, { recursive: true, force: true });
  });

  /** The text of `column` in the row `key` of table `table`, or undefined. */
  const cell = (table: string, key: string, column: string) =>
    page.evaluate((table, key, column) => {
      const el = document.getElementById(table) as HTMLTableElement;
      const i = [...el.tHead!.rows[0].cells].findIndex((c) => c.textContent === column);
      const row = [...el.tBodies[0].rows].find((r) => r.dataset.key === key);
      return row?.cells[i]?.textContent ?? undefined;
    }, table, key, column);

  /** Waits (up to `limitMs`) until that cell contains `want`; passes or fails with what it showed. */
  async function until(t: Test, table: string, key: string, column: string, want: string, limitMs = 20_000): Promise<void> {
    try {
      await page.waitForFunction((table, key, column, want) => {
        const el = document.getElementById(table) as HTMLTableElement;
        const i = [...el.tHead!.rows[0].cells].findIndex((c) => c.textContent === column);
        const row = [...el.tBodies[0].rows].find((r) => r.dataset.key === key);
        return !!row?.cells[i]?.textContent?.includes(want);
      }, { timeout: limitMs, polling: 200 }, table, key, column, want);
      t.pass(`${table} ${key} ${column}: ${want}`);
    } catch {
      t.fail(`${table} ${key} ${column}: shows "${await cell(table, key, column)}", wanted "${want}"`);
    }
  }

  t.test('the page is served with a content security policy, and its assets from here', async (t) => {
    const res = await fetch(`http://127.0.0.1:${api.port}/`);
    t.equal(res.status, 200);
    t.match(res.headers.get('content-type'), /^text\/html/);
    t.match(res.headers.get('content-security-policy'), /default-src 'none'; script-src 'self'/);
    const html = await res.text();
    t.notMatch(html, /https?:\/\//, 'no asset from elsewhere');
    for (const asset of ['/ui/page.js', '/ui/page.css', '/ui/uplot.js', '/ui/uplot.css']) {
      const r = await fetch(`http://127.0.0.1:${api.port}${asset}`);
      t.equal(r.status, 200, `${asset} served`);
      t.ok((await r.arrayBuffer()).byteLength > 100, `${asset} has content`);
    }
  });

  t.test("the page lists the demo's load balancers and pools", async (t) => {
    await until(t, 'lbs', 'web.example.com.', 'Answering from', 'web-primary');
    const names = await page.$$eval('#lbs tbody th', (ths) => ths.map((th) => th.textContent));
    t.same(names, ['app.example.com.', 'api.example.com.', 'near.example.com.', 'smtp.example.com.', 'web.example.com.']);
    t.equal(await cell('lbs', 'web.example.com.', 'Policy'), 'off');
    t.equal(await cell('lbs', 'web.example.com.', 'TTL'), '30 s');
    t.equal(await cell('pools', 'web-primary', 'Healthy / origins'), '2 / 2');
    t.equal(await cell('pools', 'web-primary', 'Monitor'), 'web-health');
    const zones = (await (await fetch(`http://127.0.0.1:${api.port}/v1/status`)).json()) as { zones: { name: string; serial: number; records: number }[] };
    t.equal(await cell('zones', 'example.com.', 'Serial'), String(zones.zones[0].serial));
    t.equal(await cell('zones', 'example.com.', 'Records'), String(zones.zones[0].records));
    t.ok(zones.zones[0].records > 10, 'records counted');
    t.match(await page.$eval('h1', (h) => h.textContent), /page-test/, 'the server id');
  });

  t.test('markup in a name or description is shown as text and runs nothing', async (t) => {
    await until(t, 'pools', 'us-east', 'Description', '<script>');
    t.equal(await cell('pools', 'us-east', 'Description'), MARKUP);
    t.equal(await page.evaluate(() => (window as unknown as { __pwned?: number }).__pwned), undefined, 'no script ran');
    t.equal(await page.$$eval('main img, main script', (els) => els.length), 0, 'no element was made from it');
  });

  t.test('a failover shows on the same page, without a reload', async (t) => {
    await page.evaluate(() => ((window as unknown as { __marker: string }).__marker = 'same page'));
    const [one, two, three] = backends;
    const shot = process.env.STEERDNS_PAGE_SCREENSHOT;
    if (shot) await new Promise((r) => setTimeout(r, 15_000)); // traffic on the primary pool, for the picture
    await stop(one);
    await stop(two);
    await until(t, 'origins', 'web-primary/backend-1', 'Health', 'unhealthy');
    await until(t, 'origins', 'web-primary/backend-1', 'Failure reason', 'TCP connection failed');
    await until(t, 'pools', 'web-primary', 'State', 'critical');
    await until(t, 'lbs', 'web.example.com.', 'Answering from', 'web-secondary');
    await page.waitForFunction(() => /now answers from web-secondary/.test(document.getElementById('changes')!.textContent!), { timeout: 10_000 });
    const changes = await page.$$eval('#changes tbody tr', (rows) => rows.map((r) => [...r.cells].map((c) => c.textContent).join(' | ')));
    t.ok(changes.some((c) => /backend-1 \| healthy → unhealthy/.test(c)), 'the origin going down is listed');
    t.ok(changes.some((c) => /web\.example\.com\. \| .*now answers from web-secondary/.test(c)), 'the load balancer moving is listed');
    const lbAt = changes.findIndex((c) => /now answers from web-secondary/.test(c));
    const originAt = changes.findIndex((c) => /backend-1 \| healthy → unhealthy/.test(c));
    t.ok(lbAt < originAt, 'newest first: the load balancer moved after its origin went down');
    // The traffic moved: the server's history shows answers from the secondary pool.
    let moved = false;
    for (let i = 0; i < 100 && !moved; i++) {
      const h = app.history.series();
      const secondary = h.pools.find((p) => p.name === 'web-secondary');
      moved = !!secondary && secondary.perSecond[secondary.perSecond.length - 1] > 0;
      if (!moved) await new Promise((r) => setTimeout(r, 200));
    }
    t.ok(moved, 'answers per second from web-secondary in the history');
    await page.waitForFunction(() => Number(document.getElementById('chart-pools')?.dataset.series) >= 2, { timeout: 10_000 });
    t.ok(await page.$('#chart-pools canvas'), 'the pools chart is drawn');

    await stop(three);
    await until(t, 'lbs', 'web.example.com.', 'State', 'on fallback');
    t.equal(await page.$eval('#lbs tr[data-key="web.example.com."]', (r) => r.className), 'fallback', 'the row stands out');
    t.equal(await page.evaluate(() => (window as unknown as { __marker?: string }).__marker), 'same page');
    t.equal(navigations, 1, 'the page was never reloaded');
    if (shot) {
      await listen(three); // back on its pool: the secondary answers again, as after a failover
      await until(t, 'lbs', 'web.example.com.', 'Answering from', 'web-secondary');
      await new Promise((r) => setTimeout(r, 12_000)); // traffic on the secondary pool, for the picture
      await page.setViewport({ width: 1440, height: 1000 });
      await page.screenshot({ path: shot, fullPage: true });
    }
  });

  t.test('admin: refused without the token, done with it, after a confirmation', async (t) => {
    const result = () => page.$eval('#action-result', (p) => p.textContent);
    const disable = '#pools tr[data-key="us-east"] button[data-action="disable"]';
    await page.click(disable);
    await page.waitForFunction(() => /Refused/.test(document.getElementById('action-result')!.textContent!), { timeout: 10_000 });
    t.match(await result(), /Refused \(401\): missing or wrong bearer token/);
    t.match(dialogs.at(-1), /^Disable pool us-east\?/, 'asked first');
    t.equal(app.overrides.size, 0, 'nothing changed');

    await page.type('#token', TOKEN);
    await page.click('#token-form button[type="submit"]');
    t.equal(await page.$eval('#token', (i) => (i as HTMLInputElement).value), '', 'the field is emptied');
    await page.click(disable);
    await page.waitForFunction(() => /Done/.test(document.getElementById('action-result')!.textContent!), { timeout: 10_000 });
    t.same(app.overrides.get('us-east'), { pool: 'us-east', enabled: false });
    await until(t, 'pools', 'us-east', 'Enabled', 'disabled by override');
    await until(t, 'pools', 'us-east', 'State', 'disabled');

    // Dismissed: nothing is sent.
    confirmAnswer = false;
    const clear = '#pools tr[data-key="us-east"] button[data-action="clear"]';
    await page.click(clear);
    t.ok(app.overrides.has('us-east'), 'a dismissed confirmation changes nothing');
    // By keyboard: focus the button, Enter, confirm.
    confirmAnswer = true;
    await page.focus(clear);
    await page.keyboard.press('Enter');
    await page.waitForFunction(() => /follows the configuration again/.test(document.getElementById('action-result')!.textContent!), { timeout: 10_000 });
    t.equal(app.overrides.size, 0, 'cleared');
    await until(t, 'pools', 'us-east', 'Enabled', 'yes');

    // An origin, with a wrong token: refused.
    await page.click('#forget');
    await page.type('#token', 'wrong');
    await page.click('#token-form button[type="submit"]');
    await page.click('#origins tr[data-key="us-east/use1-a"] button[data-action="disable"]');
    await page.waitForFunction(() => /Refused/.test(document.getElementById('action-result')!.textContent!), { timeout: 10_000 });
    t.equal(app.overrides.size, 0);
  });
}
