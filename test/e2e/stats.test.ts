/**
 * The periodic statistics line: the geolocation cache's size and hit rate and the persistence
 * table's counters, logged by the running server.
 */
import t from 'tap';
import { fileURLToPath } from 'node:url';
import { Writable } from 'node:stream';
import dnsPacket from 'dns-packet';
import { pino } from 'pino';
import { startApp } from '../../src/app/app.js';
import { sendUdp } from '../helpers/client.js';

const ZONES = fileURLToPath(new URL('../fixtures/geo-e2e/', import.meta.url));

t.test('cache statistics are logged with the hit rate', async (t) => {
  const lines: Record<string, unknown>[] = [];
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { lines.push(JSON.parse(chunk.toString())); done(); } });
  const app = await startApp({ zonesDir: ZONES, listen: [{ host: '127.0.0.1', port: 0 }], log: pino({ level: 'info' }, sink), statsIntervalMs: 150, watchDebounceMs: 0 });
  t.teardown(() => app.close());
  const q = dnsPacket.encode({ type: 'query', id: 1, questions: [{ name: 'near.example.com', type: 'A' }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, options: [{ code: 8, data: Buffer.from([0, 1, 24, 0, 1, 1, 1]) }] } as unknown as dnsPacket.Answer] });
  for (let i = 0; i < 3; i++) t.ok(await sendUdp(app.server.addresses[0].port, q), 'answered');
  const t0 = Date.now();
  let stats: { geoCache: { entries: number; hits: number; misses: number; hitRatePercent: number } } | undefined;
  while (!stats && Date.now() - t0 < 3000) {
    await new Promise((r) => setTimeout(r, 50));
    stats = lines.find((l) => l.msg === 'cache statistics') as typeof stats;
  }
  t.ok(stats, 'a statistics line was logged');
  t.equal(stats?.geoCache.misses, 1, 'the subnet was looked up once');
  t.equal(stats?.geoCache.hits, 2, 'then served from the cache');
  t.equal(stats?.geoCache.hitRatePercent, 66.7);
  t.equal(stats?.geoCache.entries, 1);
});
