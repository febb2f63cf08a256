# One image for both services; the command picks the service (see compose.yaml).
FROM node:20-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json .npmrc ./
COPY packages/protocol/package.json packages/protocol/
COPY packages/fake-upstream/package.json packages/fake-upstream/
COPY gateway/package.json gateway/
COPY platform/package.json platform/
COPY platform/web/package.json platform/web/
RUN npm ci --no-audit --no-fund
COPY . .
RUN npm run build:web

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
#   node --import tsx gateway/src/cli.ts run --port 18789 --bind 0.0.0.0
CMD ["node", "--import", "tsx", "platform/src/main.ts"]
