# syntax=docker/dockerfile:1
#
# One image for every Latchkey service. Pick the service with the command:
#   docker run latchkey node apps/token/dist/main.js
# Migrations run from the same image:
#   docker run -e DATABASE_URL=... latchkey node scripts/db-migrate.mjs
#
# Build: docker build -t latchkey .

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------
# build: full dependency tree, Prisma client generation, TypeScript build
# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS build
WORKDIR /app
# PRISMA_SCHEMA_ENGINE_BINARY: `prisma generate` only needs an executable path for the
# native schema engine (it never runs it) and would otherwise try to download one. The
# runtime client is engine-free (driver adapter), so no engine ships in the image.
ENV CI=true \
    NX_DAEMON=false \
    NX_NO_CLOUD=true \
    CHECKPOINT_DISABLE=1 \
    PRISMA_HIDE_UPDATE_MESSAGE=1 \
    PRISMA_SCHEMA_ENGINE_BINARY=/bin/true

# The whole context (see .dockerignore): npm ci needs every workspace manifest,
# and prisma generate reads tsconfig.json.
COPY . .
# --ignore-scripts: nothing may download at install time (no engine downloads,
# no postinstall surprises); this mirrors npm 11's default on developer machines.
RUN npm ci --ignore-scripts --no-audit --no-fund

RUN npm run prisma:generate \
 && npm run build

# Collect exactly what the runtime needs: manifests (for the workspace links), each
# project's dist/ (and migrations/ when a project keeps its SQL there), the scripts
# (migration runner), prisma/ (schemas and SQL migrations) and dist-run/ if the build
# emits compiled scripts there.
RUN set -eu; \
    mkdir -p /out; \
    cp package.json package-lock.json /out/; \
    for d in apps/* libs/*; do \
      [ -f "$d/package.json" ] || continue; \
      mkdir -p "/out/$d"; \
      cp "$d/package.json" "/out/$d/"; \
      for sub in dist migrations; do \
        if [ -d "$d/$sub" ]; then cp -R "$d/$sub" "/out/$d/"; fi; \
      done; \
    done; \
    cp -R scripts prisma /out/; \
    if [ -d dist-run ]; then cp -R dist-run /out/; else mkdir -p /out/dist-run; fi; \
    find /out -name '*.tsbuildinfo' -delete

# ---------------------------------------------------------------------------
# runtime: production dependencies + built output, non-root
# ---------------------------------------------------------------------------
FROM ${NODE_IMAGE} AS runtime
WORKDIR /app
ENV NODE_ENV=production \
    MALLOC_ARENA_MAX=2 \
    LOG_LEVEL=info \
    HOST=0.0.0.0 \
    PORT=3000 \
    HEALTH_PORT=8081 \
    TENANTS_FILE=/etc/latchkey/tenants.yaml

COPY --from=build /out/package.json /out/package-lock.json ./
COPY --from=build /out/apps ./apps
COPY --from=build /out/libs ./libs
RUN npm ci --omit=dev --ignore-scripts --no-audit --no-fund \
 && npm cache clean --force \
 && rm -rf /root/.npm /tmp/*
COPY --from=build /out/scripts ./scripts
COPY --from=build /out/prisma ./prisma
COPY --from=build /out/dist-run ./dist-run

# Everything under /app stays owned by root: the `node` user can read it but
# cannot modify its own code (Kubernetes additionally mounts the root filesystem
# read-only; only /tmp is writable there).
USER node

EXPOSE 3000 8081
# No default service: the command names the service (see header). Running the
# image without one prints a hint and fails instead of starting something unexpected.
CMD ["node", "-e", "console.error('Choose a service: node apps/<gateway|identity|token|delegation|device-registry|policy>/dist/main.js, or node scripts/db-migrate.mjs'); process.exit(64)"]
