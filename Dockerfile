# One image for the worker and the web server (docker-compose.yml picks the command).
FROM node:20-bookworm-slim
RUN apt-get update \
 && apt-get install -y --no-install-recommends chromium fonts-wqy-microhei python3 make g++ ca-certificates \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY package.json package-lock.json ./
# npm ci runs the prepare script (scripts/build.mjs), which has nothing to build yet;
# the JavaScript in dist/ is built once the sources are in (the CLI starts from it).
COPY scripts/build.mjs scripts/
RUN npm ci --omit=dev --no-audit --no-fund
COPY . .
RUN node scripts/build.mjs
ENV NODE_ENV=production TBT_DATA_DIR=/data
VOLUME /data
ENTRYPOINT ["node", "bin/tbt-watch.mjs"]
CMD ["serve"]
