# syntax=docker/dockerfile:1
# Journey Ledger: compile TypeScript in a build stage, run the compiled JavaScript on production
# dependencies only, as the unprivileged `node` user, on the current Node LTS (the code also runs
# on Node 20, which these development machines have).
# Dependencies install with their scripts off; the one script the service needs is run by name:
# patch-package applies patches/ (postgres.js: a write after the socket closed must not crash the
# process). esbuild's binary (tsx, development only) is not needed to build or to run.

FROM node:24-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --ignore-scripts --no-audit --no-fund && npx patch-package
COPY . .
RUN npm run build

FROM node:24-bookworm-slim AS runtime
# The master key never lives with the data: mount it as a secret (JOURNEY_MASTER_KEY_FILE) or let
# the embedded default generate it into the /keys volume, and back the two up apart.
ENV NODE_ENV=production PORT=3000 HOST=0.0.0.0 DATA_DIR=/data JOURNEY_MASTER_KEY_FILE=/keys/master.key
WORKDIR /app
COPY package.json package-lock.json ./
COPY patches ./patches
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund && npx patch-package && npm cache clean --force
# Application files stay root-owned (read-only to the service); only /data is writable.
COPY --from=build /app/dist ./dist
COPY bin ./bin
# The compiled store resolves migrations next to itself (dist/src/store -> dist/db/migrations);
# the copy in db/migrations keeps the source layout for anything that reads them from the cwd.
COPY db/migrations ./dist/db/migrations
COPY db/migrations ./db/migrations
RUN mkdir -p /data /keys && chown node:node /data /keys && chmod 700 /keys
VOLUME ["/data", "/keys"]
USER node
EXPOSE 3000
# The slim image has no curl; Node's fetch does the probe.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/healthz', { signal: AbortSignal.timeout(4000) }).then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# V8 flags as in npm start: a 4 MB young generation (V8's default is 16) and an old generation
# that grows to at most twice what survived the last full collection (V8 lets it reach four times):
# the same throughput and GC time under load, about 150 MB less resident than V8's defaults.
CMD ["node", "--max-semi-space-size=4", "--heap-growing-percent=100", "dist/src/server.js"]
