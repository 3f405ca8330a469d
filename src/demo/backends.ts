/**
 * Three tiny HTTP backends for watching failover on your own machine (`npm run demo:backends`):
 * they listen on 127.0.0.11, .12 and .13 port 8080 and answer `GET /health` with 200. Type a
 * backend's number and Enter to stop or start it, then watch `dig @127.0.0.1 -p 5300
 * web.example.com` move between pools. Addresses given as arguments replace the three (the
 * compose demo runs one backend per container). For the demo, not for production.
 */
import http from 'node:http';
import { createInterface } from 'node:readline';

const ADDRESSES = process.argv.length > 2 ? process.argv.slice(2) : ['127.0.0.11', '127.0.0.12', '127.0.0.13'];
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

// As PID 1 in a container, a signal without a handler is ignored: `docker compose stop` would wait.
process.once('SIGTERM', () => process.exit(0));
ADDRESSES.forEach((_, i) => start(i));
if (process.stdin.isTTY) {
  process.stdout.write(`type a backend's number (1-${ADDRESSES.length}) and Enter to stop or start it; Ctrl-C to quit\n`);
  createInterface({ input: process.stdin }).on('line', (line) => {
    const i = Number(line.trim()) - 1;
    if (!(i >= 0 && i < ADDRESSES.length)) return;
    if (servers.has(i)) stop(i);
    else start(i);
  });
}
