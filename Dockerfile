# One image for every service of the stack: the worker (the default command), the intake API, the
# codec server and the Comeet simulator; docker-compose.yml picks the command per service. It runs
# the JavaScript `npm run build` compiles to dist/, with production dependencies only (no tsx, no
# TypeScript, no tests, no Temporal CLI). No HEALTHCHECK here: each service has its own (see compose).
#
# Node 24, the active LTS line, pinned to an exact release in both stages (the code also runs on
# Node 20.18+, package.json "engines"). Bump both lines together, or pin a digest (node:…@sha256:…).

# --- build: all dependencies, compile src/ and build the workflow bundles from that output ------
FROM node:24.16.0-bookworm-slim AS build
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund
COPY tsconfig.json tsconfig.build.json ./
COPY scripts/build.mjs ./scripts/
COPY src ./src
# The workflow bundles are built once, here, from the same compiled code the image ships: workers
# then start in well under a second instead of running webpack (seconds of CPU, hundreds of MB) at
# every start, and code and bundles cannot drift apart. The tracing one carries the OpenTelemetry
# workflow interceptors, for a worker with OTEL_EXPORTER_OTLP_* set.
RUN npm run build

# --- runtime --------------------------------------------------------------------------------------
FROM node:24.16.0-bookworm-slim
# tini as PID 1: forwards SIGTERM to the service (the worker drains on it) and reaps zombies, with
# or without `docker run --init` / compose's `init:`.
RUN apt-get update \
  && apt-get install -y --no-install-recommends tini \
  && rm -rf /var/lib/apt/lists/*
WORKDIR /app
ENV NODE_ENV=production
# Two glibc arenas instead of eight per core for the SDK's threads, and a bounded V8 old space, so V8
# collects instead of growing: 600 erasures in flight peak at 266 MiB instead of 423, for ~3% of
# throughput (README, Benchmark). A worker given a larger sticky cache needs a larger bound.
ENV MALLOC_ARENA_MAX=2
ENV NODE_OPTIONS="--max-old-space-size=192"
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY bin ./bin
# dist/ (code and bundles) belongs to root, so the service cannot rewrite it.
COPY --from=build /app/dist ./dist
ENV DSAR_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js DSAR_WORKFLOW_BUNDLE_TRACING=/app/dist/workflow-bundle-tracing.js
USER node
ENTRYPOINT ["/usr/bin/tini", "--"]
CMD ["node", "dist/worker.js"]
