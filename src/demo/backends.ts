/**
 * Three tiny HTTP backends for watching failover on your own machine (`npm run demo:backends`):
 * they listen on 127.0.0.11, .12 and .13 port 8080 and answer `GET /health` with 200. Type a
 * backend's number and Enter to stop or start it, then watch `dig @127.0.0.1 -p 5300
 * web.example.com` move between pools. Loopback only; for the demo, not for production.
 */
import http from 'node:http';
import { createInterface } from 'node:readline';

const ADDRESSES = ['127.0.0.11', '127.0.0.12', '127.0.0.13'];
const PORT = 8080;
const servers = new Map<number, http.Server>();

function start(i: number): void {
  const address = ADDRESSES[i];
  const server = http.createServer((req, res) => {
    res.writeHead(req.url === '/health' ? 200 : 404, { 'content-type': 'text/plain' });
    res.end(req.url === '/health' ? `backend ${i + 1} (${address}) is up\n` : 'not found\n');
  });
  server.on('error', (err) => process.stderr.write(`backend ${i + 1} (${address}:${PORT}): ${err.message}\n`));
  server.listen(PORT, address, () => process.stdout.write(`backend ${i + 1} up on ${address}:${PORT}\n`));
  servers.set(i, server);
}

function stop(i: number): void {
  const server = servers.get(i);
  if (!server) return;
  servers.delete(i);
  server.closeAllConnections();
  server.close(() => process.stdout.write(`backend ${i + 1} stopped\n`));
}

ADDRESSES.forEach((_, i) => start(i));
process.stdout.write('type 1, 2 or 3 and Enter to stop or start that backend; Ctrl-C to quit\n');
createInterface({ input: process.stdin }).on('line', (line) => {
  const i = Number(line.trim()) - 1;
  if (!(i >= 0 && i < ADDRESSES.length)) return;
  if (servers.has(i)) stop(i);
  else start(i);
});
