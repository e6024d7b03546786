# The worker image (also runs the CLI and the simulator). Dev tooling (tests, the Temporal CLI) is not included.
FROM node:20-bookworm-slim
WORKDIR /app
ENV NODE_ENV=production
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund
COPY tsconfig.json ./
COPY src ./src
COPY bin ./bin
USER node
CMD ["npm", "run", "worker"]
