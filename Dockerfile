# One image for both apps; compose picks the entry point. Build: docker build -t port-checker .
FROM node:22-bookworm-slim AS build
WORKDIR /app
RUN npm install -g pnpm@10.34.8
COPY pnpm-lock.yaml pnpm-workspace.yaml package.json ./
COPY apps/api/package.json apps/api/
COPY apps/worker/package.json apps/worker/
COPY packages/shared/package.json packages/shared/
COPY packages/client/package.json packages/client/
RUN pnpm install --frozen-lockfile
COPY tsconfig.base.json ./
COPY packages/shared packages/shared
COPY packages/client packages/client
COPY apps/api apps/api
COPY apps/worker apps/worker
RUN pnpm build \
 && pnpm deploy --filter @port-checker/api --prod --legacy /out/api \
 && pnpm deploy --filter @port-checker/worker --prod --legacy /out/worker

FROM node:22-bookworm-slim AS api
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /out/api ./
USER node
EXPOSE 9000
# node, not npm: SIGTERM reaches the process and shutdown is graceful.
CMD ["node", "dist/main.js"]

FROM node:22-bookworm-slim AS worker
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build --chown=node:node /out/worker ./
USER node
CMD ["node", "dist/main.js"]
