# syntax=docker/dockerfile:1
# The healthexport image, in two stages:
#   build    installs every dependency and packs the package the way CI builds it
#            (`npm ci`, then `npm pack`, whose prepack is `npm run build`, as `npm test`'s pretest);
#   runtime  the packed package (bin/, dist/, migrations/, ...) with production dependencies only,
#            `npm ci --omit=dev` against the lockfile, run as the unprivileged `node` user.
# tests/packaging/install.test.ts runs the runtime stage's install command over a packed tarball;
# tests/deploy/compose.test.ts checks the build stage runs CI's commands. Docker itself is not
# available where the project is tested, so the image is not built by the tests.
ARG NODE_IMAGE=node:20.19.0-bookworm-slim

FROM ${NODE_IMAGE} AS build
WORKDIR /src
# Dependencies first: this layer is reused while only the sources change. prepare (scripts/)
# finds no src/ yet and builds nothing.
COPY package.json package-lock.json ./
COPY scripts/ scripts/
RUN --mount=type=cache,target=/root/.npm npm ci --no-audit --no-fund
COPY . .
RUN npm pack --pack-destination /tmp \
 && mkdir /pkg \
 && tar -xzf /tmp/healthexport-*.tgz -C /pkg --strip-components=1 \
 && cp package-lock.json /pkg/

FROM ${NODE_IMAGE} AS runtime
ENV NODE_ENV=production
WORKDIR /app
COPY --from=build /pkg/ ./
RUN --mount=type=cache,target=/root/.npm npm ci --omit=dev --no-audit --no-fund
# The embedded PostgreSQL (used only without DATABASE_URL) keeps its data here.
RUN mkdir -p /var/lib/healthexport && chown node:node /var/lib/healthexport
ENV HEALTHEXPORT_DATA_DIR=/var/lib/healthexport
USER node
EXPOSE 8080
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:8080/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
ENTRYPOINT ["node", "/app/bin/healthexport.js"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8080"]
