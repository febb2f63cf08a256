# One image for both services; the command picks the service (compose.yaml, deploy/kubernetes/).
# Node 24 is an LTS line (supported to April 2028); the code also runs on Node 20. The exact tag
# keeps builds reproducible: raise it for Node's security releases (docker build --build-arg
# NODE_IMAGE=node:24.x.y-bookworm-slim), and the same tag serves every stage.
ARG NODE_IMAGE=node:24.11.1-bookworm-slim

# 1. build: every dependency, the sources, the web app and the bundles.
FROM ${NODE_IMAGE} AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY packages/protocol/package.json packages/protocol/
COPY packages/metrics/package.json packages/metrics/
COPY packages/logging/package.json packages/logging/
COPY packages/net-guard/package.json packages/net-guard/
COPY packages/fake-upstream/package.json packages/fake-upstream/
COPY gateway/package.json gateway/
COPY platform/package.json platform/
# --ignore-scripts: the root `prepare` (the service build) needs the sources, copied next.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
# The web app (platform/web/dist), one bundle per service (gateway/dist, platform/dist) and the
# PGlite template. bin/ (the operator CLI) may not exist in every checkout: the final stage copies it.
RUN npm run build:web && npm run build && mkdir -p bin

# 2. production-dependencies: what the code loads at run time and nothing else. The bundles
# keep PGlite (its wasm beside it), @node-rs/argon2 (a native binary) and pg external; the operator
# CLI runs TypeScript through tsx, a runtime dependency of the gateway. --ignore-scripts: the root
# `prepare` would try to build with the dev dependencies left out here.
FROM ${NODE_IMAGE} AS production-dependencies
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY packages/protocol/package.json packages/protocol/
COPY packages/logging/package.json packages/logging/
COPY packages/net-guard/package.json packages/net-guard/
COPY packages/metrics/package.json packages/metrics/
COPY packages/fake-upstream/package.json packages/fake-upstream/
COPY gateway/package.json gateway/
COPY platform/package.json platform/
RUN npm ci --omit=dev --no-audit --no-fund --ignore-scripts && npm cache clean --force

# 3. runtime: production dependencies, the built output and the sources the operator CLI (bin/,
# through tsx) may run: packages/protocol, logging, net-guard and metrics, gateway, platform, scripts. No
# compiler, bundler, test tool or web-app toolchain.
FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production \
    TENANT_DATA_DIR=/data/tenants \
    WEB_DIST_DIR=/app/platform/web/dist
WORKDIR /app
COPY --from=production-dependencies /app/ ./
COPY --from=build /app/packages/protocol/src packages/protocol/src
COPY --from=build /app/packages/logging/src packages/logging/src
COPY --from=build /app/packages/net-guard/src packages/net-guard/src
COPY --from=build /app/packages/metrics/src packages/metrics/src
COPY --from=build /app/gateway/bin gateway/bin
COPY --from=build /app/gateway/src gateway/src
COPY --from=build /app/gateway/dist gateway/dist
COPY --from=build /app/platform/src platform/src
COPY --from=build /app/platform/dist platform/dist
COPY --from=build /app/platform/web/dist platform/web/dist
COPY --from=build /app/bin bin
COPY --from=build /app/scripts scripts
COPY --from=build /app/deploy/docker/link-bins.mjs deploy/docker/link-bins.mjs
# `workforce` (doctor, backup, restore) and `gateway` on the PATH; the data dir owned by the
# unprivileged `node` user (uid 1000) the services run as. The files under /app stay root's:
# a compromised service cannot rewrite its own code.
RUN node deploy/docker/link-bins.mjs /app /usr/local/bin \
    && mkdir -p /data/tenants \
    && chown node:node /data/tenants
USER node
EXPOSE 3000 18789
# Liveness only (a busy gateway is not restarted): whichever service this container runs answers
# /livez on its port (PORT for the platform, 18789 for the gateway). node, not curl: slim images have none.
HEALTHCHECK --interval=15s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "const ports=[process.env.PORT||'3000','18789'];Promise.any(ports.map(p=>fetch('http://127.0.0.1:'+p+'/livez',{signal:AbortSignal.timeout(4000)}).then(r=>{if(!r.ok)throw new Error(r.status)}))).then(()=>process.exit(0),()=>process.exit(1))"]
# The platform by default; the gateway runs with:
#   gateway run --port 18789 --bind 0.0.0.0   (or: node gateway/dist/cli.js run …)
CMD ["node", "platform/dist/main.js"]
