# The server as a container image (docs/SERVER.md §12): built in one stage, run from a slim one as the
# unprivileged `node` user, with its data directory on a volume.
#   docker build -t proj-server .
#   docker run -d --name proj -p 5050:5050 -v proj-data:/data proj-server
#   docker exec proj node /app/dist/main.js list
# Settings are the PROJ_SERVER_* variables (docker run -e PROJ_SERVER_METRICS=0.0.0.0:9464 -p 9464:9464 …) or flags
# after the image name (docker run … proj-server serve --no-prompt --max-file-bytes 1GiB). Logs are JSON lines
# (`docker logs`); with `docker run -t` they are pino-pretty's readable lines.

FROM node:20-bookworm-slim AS build
RUN npm install -g pnpm@12.4.2
WORKDIR /src
COPY . .
# The server and the packages it uses are built, then `pnpm deploy` gathers it with its production dependencies
# alone (about 30 MiB, against 240 for the whole workspace).
RUN pnpm install --frozen-lockfile \
 && pnpm --filter "server..." run build \
 && pnpm --filter server deploy --prod /out

FROM node:20-bookworm-slim
ENV NODE_ENV=production \
    PROJ_SERVER_DATA_DIR=/data \
    PROJ_SERVER_HOST=0.0.0.0 \
    PROJ_SERVER_PORT=5050 \
    PROJ_SERVER_OUTPUT=file
# flock(1) (util-linux) tells servers sharing /data who is alive; the slim image has it.
COPY --from=build /out /app
RUN mkdir /data && chown node:node /data && chmod 0700 /data
USER node
WORKDIR /data
VOLUME /data
EXPOSE 5050
# The server's own check: a handshake and a ping on its port (`server health`).
HEALTHCHECK --interval=30s --timeout=10s --start-period=15s --retries=3 \
  CMD ["node", "/app/dist/main.js", "health", "--timeout", "5"]
ENTRYPOINT ["node", "/app/dist/main.js"]
CMD ["serve", "--no-prompt"]
