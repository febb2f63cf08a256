# One image for both services; the command picks the service (see compose.yaml).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY packages/protocol/package.json packages/protocol/
COPY packages/metrics/package.json packages/metrics/
COPY packages/fake-upstream/package.json packages/fake-upstream/
COPY gateway/package.json gateway/
COPY platform/package.json platform/
COPY platform/web/package.json platform/web/
# --ignore-scripts: `prepare` (the service build) needs the sources, copied next.
RUN npm ci --no-audit --no-fund --ignore-scripts
COPY . .
# The web app, one bundle per service (gateway/dist, platform/dist) and the PGlite template.
RUN npm run build:web && npm run build

FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production \
    TENANT_DATA_DIR=/data/tenants \
    WEB_DIST_DIR=/app/platform/web/dist
COPY --from=build --chown=node:node /app /app
RUN mkdir -p /data/tenants && chown node:node /data/tenants
USER node
EXPOSE 3000 18789
# Platform by default; the gateway runs with:
#   node gateway/dist/cli.js run --port 18789 --bind 0.0.0.0
CMD ["node", "platform/dist/main.js"]
