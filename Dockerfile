# One image per app, from one build; compose picks the target. Build: docker build --target api -t port-checker-api .
# Node 24, though 26 is the active LTS (package.json's engines take 22, 24 and 26): 24 is what the production settings
# were measured on (the heap limits below, test/deploy/heap-limit.test.ts, README "Performance"); CI runs the whole
# suite on 24 and on 26. Moving to 26, once measured, changes only this tag, in each FROM and base.name label.
FROM node:24.21.0-bookworm-slim AS build
WORKDIR /app
RUN npm install -g pnpm@10.34.8
# Dependencies first, from the lockfile alone, so that a change of source keeps this layer.
COPY pnpm-lock.yaml pnpm-workspace.yaml ./
RUN pnpm fetch
COPY . .
RUN pnpm install --offline --frozen-lockfile \
 && pnpm build \
 && pnpm deploy --filter @port-checker/api --prod --legacy /out/api \
 && pnpm deploy --filter @port-checker/worker --prod --legacy /out/worker

FROM node:24.21.0-bookworm-slim AS api
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="golem-port-checker-api" \
      org.opencontainers.image.description="Golem port checker, the HTTP API: POST /check-ports, /ready, /metrics, /docs" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="docker.io/library/node:24.21.0-bookworm-slim"
ENV NODE_ENV=production
# V8 paces its heap's growth by this limit: with the default (a quarter of the machine's memory)
# the API's heap grows to ~190 MB under load while holding ~25 MB of live data; see README "Performance".
ENV NODE_OPTIONS="--max-old-space-size=256 --max-semi-space-size=16"
WORKDIR /app
# Root owns the code; the app runs as node and cannot change it. What `pnpm deploy` puts in /out is
# what runs: each package's `files` (dist/**/*.js, and the API's page in public/), package.json and
# production dependencies only (test/deploy/deployed-apps.test.ts starts both apps from such folders).
COPY --from=build /out/api ./
USER node
# The API, and GET /metrics on the admin port (PORT_CHECKER_ADMIN_PORT; loopback unless PORT_CHECKER_ADMIN_HOST says).
EXPOSE 9000 9001
# node, not npm: SIGTERM reaches the process and shutdown is graceful.
CMD ["node", "dist/main.js"]

FROM node:24.21.0-bookworm-slim AS worker
ARG VERSION=0.1.0
LABEL org.opencontainers.image.title="golem-port-checker-worker" \
      org.opencontainers.image.description="Golem port checker, a worker: probes TCP ports for the API, through Redis" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.licenses="MIT" \
      org.opencontainers.image.base.name="docker.io/library/node:24.21.0-bookworm-slim"
ENV NODE_ENV=production
# The same heap limit as the API's, for the same reason.
ENV NODE_OPTIONS="--max-old-space-size=256 --max-semi-space-size=16"
WORKDIR /app
COPY --from=build /out/worker ./
USER node
# GET /metrics for Prometheus on the admin port (PORT_CHECKER_ADMIN_PORT; loopback unless PORT_CHECKER_ADMIN_HOST says).
EXPOSE 9101
CMD ["node", "dist/main.js"]
