#!/usr/bin/env bash
# Idempotent set-up for a bare Debian 12 machine: system packages the sandboxes need,
# then the npm dependencies and the build. Safe to run again; it skips what is there.
set -euo pipefail
cd "$(dirname "$0")/.."

APT_PACKAGES=(
  bubblewrap          # namespaces + mounts for each sandbox
  util-linux          # setpriv (drop to the sandbox's host uid), mount
  python3             # Debian's /usr/bin/python3: the sandbox's Python
  python3-seccomp     # libseccomp binding: compiles the sandbox's syscall filter
  python3-ipython     # the Python kernel
  python3-numpy python3-pandas python3-matplotlib
  fonts-dejavu-core   # matplotlib's text
  jupyter-server python3-ipykernel  # benchmark baseline only
  redis-server        # the tests start a private Redis to stop it mid-run
  curl jq             # the README's quick start
  prometheus          # promtool: CI checks and unit-tests deploy/prometheus/alerts.yml (its daemon is not started: no init here)
  shellcheck          # CI lints the container entrypoint (deploy/docker/entrypoint.sh)
  make g++            # builds better-sqlite3 from source (no prebuilt download here)
)

missing=()
for p in "${APT_PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""; [ "$(id -u)" -eq 0 ] || SUDO="sudo"
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
fi

# npm ci only when the lock file changed since the last install (it wipes node_modules).
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
npm run build --silent
