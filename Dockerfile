# One image for every service of the stack: the worker (the default command), the intake API, the
# codec server and the Comeet simulator; docker-compose.yml picks the command per service. It runs
# TypeScript through tsx (a runtime dependency), so there is no compile step. Dev tooling (tests,
# the Temporal CLI) is not included. No HEALTHCHECK here: each service has its own (see compose).
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund && npm cache clean --force
COPY tsconfig.json ./
COPY src ./src
COPY bin ./bin
COPY scripts/build-workflow-bundle.ts ./scripts/
# The workflow bundle is built once, here, from the same src the image ships: workers then start in
# well under a second instead of running webpack (seconds of CPU, hundreds of MB) at every start,
# and code and bundle cannot drift apart. It belongs to root, so the service cannot rewrite it.
RUN npm run build:workflows -- /app/dist/workflow-bundle.js
ENV DSAR_WORKFLOW_BUNDLE=/app/dist/workflow-bundle.js
USER node
CMD ["npm", "run", "worker"]
