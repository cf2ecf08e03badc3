# One image for the worker and the web server (docker-compose.yml picks the command).
# .dockerignore keeps ./data (database, e-mails), .env and .git out of the build context.
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
# The code stays root-owned (read-only to the app); only /data is the app's to write.
COPY . .
RUN node scripts/build.mjs && mkdir -p /data && chown node:node /data
ENV NODE_ENV=production TBT_DATA_DIR=/data
VOLUME /data
# Not root: a compromised process owns nothing but /data, and Chromium can keep its
# sandbox where the kernel and the container allow user namespaces (see scrapers/browser/README.md).
USER node
ENTRYPOINT ["node", "bin/tbt-watch.mjs"]
CMD ["serve"]
