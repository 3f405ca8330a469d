# steerdns in a container: `docker build -t steerdns .`, then
#   docker run --rm -p 5300:5300/udp -p 5300:5300/tcp steerdns
# serves the demo zones. Mount your own at /app/zones (or pass --zones) and publish port 53 of
# the host to 5300: `-p 53:5300/udp -p 53:5300/tcp`. It listens on 5300 because it runs as the
# unprivileged user `node`, which may not bind ports below 1024 everywhere (docs/operations.md).

# Build: compile the TypeScript with the dev dependencies.
# Node 24 LTS (22 is supported too): its workers each bind their own sockets (SO_REUSEPORT).
FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` would build before the sources are copied.
RUN npm ci --ignore-scripts
COPY tsconfig.json ./
COPY src ./src
RUN npm run build

# Run: production dependencies, the compiled code and the demo zones; no compiler, no sources.
FROM node:24-bookworm-slim
ENV NODE_ENV=production
WORKDIR /app
COPY package.json package-lock.json ./
# --ignore-scripts: `prepare` runs tsc, which is a dev dependency and not installed here.
RUN npm ci --omit=dev --ignore-scripts && npm cache clean --force
COPY --from=build /app/dist ./dist
COPY zones ./zones
# Overrides, last known health and last good copies of the files survive a new container there.
RUN mkdir -p /var/lib/steerdns && chown node:node /var/lib/steerdns
VOLUME /var/lib/steerdns
USER node
# DNS over UDP and TCP, and the HTTP API (/healthz, /readyz, /metrics).
EXPOSE 5300/udp 5300/tcp 8053/tcp
# Node runs as PID 1: it handles SIGTERM itself (stop accepting, drain TCP, exit 0).
ENTRYPOINT ["node", "dist/cli.js"]
# The API listens on all interfaces so the host can reach it through a published port; its
# admin calls stay refused without --api-token or STEERDNS_API_TOKEN.
CMD ["serve", "--zones", "/app/zones", "--state-dir", "/var/lib/steerdns", "--listen", "0.0.0.0:5300", "--api", "0.0.0.0:8053"]
