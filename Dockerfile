# syntax=docker/dockerfile:1
#
# Code Interpreter: one image for the API server, the sandbox engine and the `codeint` CLI.
#
#   docker build -t code-interpreter .
#
# The image's default user is the unprivileged `codeint` (uid 990): started with no options it runs
# nothing as root, and `codeint serve` refuses to start, naming what it lacks (isolation fails closed).
# The engine needs root inside its container plus a short list of capabilities to build sandboxes
# (cgroups, one tmpfs per sandbox, one host uid per sandbox). docs/operations.md ("Privileges") lists
# each one and why; with Docker ≥ 28:
#
#   docker run --rm -p 3000:3000 -p 9090:9090 --user 0 \
#     --cap-drop ALL --cap-add SYS_ADMIN --cap-add SETUID --cap-add SETGID --cap-add SETPCAP \
#     --cap-add CHOWN --cap-add FOWNER --cap-add KILL \
#     --security-opt apparmor=unconfined --security-opt systempaths=unconfined \
#     --security-opt writable-cgroups=true --cgroupns=private \
#     -v codeint-data:/var/lib/codeint code-interpreter
#
# It is not `--privileged`: no host devices, the runtime's seccomp profile stays on, and only those
# seven capabilities. The untrusted code itself never holds any of them: each sandbox runs under its
# own unprivileged uid with no capabilities, no_new_privs, its own namespaces and a seccomp filter.

ARG NODE_IMAGE=node:20-bookworm-slim

# ---------------------------------------------------------------------------------------------
# build: install every dependency, compile TypeScript (SDK and server), then drop dev dependencies
FROM ${NODE_IMAGE} AS build
# python3, make and g++ build better-sqlite3 when no prebuilt binary can be fetched.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3 make g++ \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
# No git hooks in an image build.
ENV HUSKY=0
COPY package.json package-lock.json tsconfig.base.json tsconfig.json ./
COPY packages ./packages
RUN npm ci --no-audit --no-fund
RUN npm run build \
 && npm prune --omit=dev --no-audit --no-fund \
 && chmod 0755 packages/server/dist/cli/main.js

# ---------------------------------------------------------------------------------------------
# runtime: Node.js 20 plus what every sandbox is built from (the sandboxes see this image's /usr)
FROM ${NODE_IMAGE} AS runtime
# bubblewrap: namespaces and mounts per sandbox; util-linux: setpriv (drops to the sandbox's uid);
# mount: the per-sandbox tmpfs; Debian's python3 with IPython, numpy, pandas, matplotlib and the
# libseccomp binding (compiles the sandbox's syscall filter); fonts for matplotlib; tini: PID 1
# that forwards SIGTERM and reaps orphans.
RUN apt-get update \
 && apt-get install -y --no-install-recommends \
      bubblewrap util-linux mount \
      python3 python3-seccomp python3-ipython python3-numpy python3-pandas python3-matplotlib \
      fonts-dejavu-core tini \
 && rm -rf /var/lib/apt/lists/* \
 # The engine and the sandboxes run Node.js as /usr/bin/node (the sandboxes see only /usr).
 && ln -s /usr/local/bin/node /usr/bin/node \
 # The image's default user, for the CLI and for anything started without privileges. Its uid is
 # below every sandbox uid range (ENGINE_UID_BASE: 600000, or 20000 with user namespaces).
 && groupadd --system --gid 990 codeint \
 && useradd --system --uid 990 --gid codeint --home-dir /nonexistent --no-create-home \
      --shell /usr/sbin/nologin codeint \
 # The server's data folder (SQLite, generated secrets, admin.key): the engine runs as root.
 && install -d -o root -g root -m 0700 /var/lib/codeint

ENV NODE_ENV=production \
    DATA_DIR=/var/lib/codeint \
    PORT=3000 \
    METRICS_PORT=9090
WORKDIR /app
COPY --from=build /app/package.json ./package.json
COPY --from=build /app/node_modules ./node_modules
COPY --from=build /app/packages/server/package.json ./packages/server/package.json
COPY --from=build /app/packages/server/dist ./packages/server/dist
COPY --from=build /app/packages/server/sandbox ./packages/server/sandbox
COPY --from=build /app/packages/sdk/package.json ./packages/sdk/package.json
COPY --from=build /app/packages/sdk/dist ./packages/sdk/dist
COPY config ./config
COPY deploy/docker/entrypoint.sh /usr/local/bin/codeint-entrypoint
RUN chmod 0755 /usr/local/bin/codeint-entrypoint \
 && ln -s /app/packages/server/dist/cli/main.js /usr/local/bin/codeint

USER codeint
EXPOSE 3000 9090
# Liveness of the API (GET /health answers while the process lives); readiness is /ready.
HEALTHCHECK --interval=30s --timeout=5s --start-period=60s --retries=3 \
  CMD ["node", "-e", "fetch('http://127.0.0.1:' + (process.env.PORT || 3000) + '/health').then((r) => process.exit(r.ok ? 0 : 1), () => process.exit(1))"]
# tini is PID 1; the entrypoint prepares cgroups and /proc for the engine when run as root
# (deploy/docker/entrypoint.sh), then execs the command.
ENTRYPOINT ["/usr/bin/tini", "--", "/usr/local/bin/codeint-entrypoint"]
CMD ["codeint", "serve"]
