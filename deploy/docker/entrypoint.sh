#!/bin/sh
# Container entrypoint: prepares the container for the sandbox engine, then execs the command
# (`codeint serve` by default). It acts only when started as root; as any other user (the image's
# default `codeint`, for the CLI) it just runs the command.
#
# A container runtime restricts two things the engine needs; this undoes exactly those, inside the
# container's own namespaces, and says what it did (docs/operations.md, "Privileges"):
#   1. /sys/fs/cgroup is mounted read-only. The engine creates one cgroup per sandbox under the
#      container's own cgroup, so it remounts that mount read-write (needs CAP_SYS_ADMIN). On
#      cgroup v2 a cgroup that hands controllers to children may hold no processes, so the
#      container's processes move to a leaf, `codeint-server`, and memory, cpu and pids are enabled
#      for children.
#   2. Paths in /proc are masked by mounts over them. bubblewrap, running unprivileged in a new
#      user namespace, may only mount a fresh /proc for a sandbox's PID namespace when no locked
#      mount covers part of /proc, so the masks are unmounted. (In the host user namespace the
#      engine holds CAP_SYS_ADMIN and could mount an unmasked /proc anyway: the masks are no
#      boundary for it. With Kubernetes user namespaces use procMount: Unmasked instead and this
#      step finds nothing to do.)
# Set CODEINT_PREPARE=0 to skip all of it (when the runtime already provides both).
set -eu

CGROUP_ROOT=${CODEINT_CGROUP_ROOT:-/sys/fs/cgroup}

log() {
  printf '{"level":"%s","service":"codeint-entrypoint","msg":"%s"}\n' "$1" "$2" >&2
}

# True when the mount at $1 is read-only (per mount or per superblock).
read_only() {
  awk -v m="$1" '$2 == m { split($4, o, ","); ro = (o[1] == "ro") } END { exit(ro ? 0 : 1) }' /proc/self/mounts
}

make_writable() {
  read_only "$1" || return 0
  # Per-mount flag first (changes nothing outside this mount namespace), then the superblock.
  mount -o remount,bind,rw "$1" 2>/dev/null || true
  read_only "$1" && { mount -o remount,rw "$1" 2>/dev/null || true; }
  if read_only "$1"; then
    log warn "$1 stays read-only (needs CAP_SYS_ADMIN, or a runtime that mounts it writable): the engine will not start"
  else
    log info "remounted $1 read-write"
  fi
}

prepare_cgroup_v2() {
  make_writable "$CGROUP_ROOT"
  enabled=" $(cat "$CGROUP_ROOT/cgroup.subtree_control") "
  missing=""
  for c in memory cpu pids; do
    case "$enabled" in *" $c "*) ;; *) missing="$missing $c" ;; esac
  done
  [ -n "$missing" ] || return 0
  # (cgroup files report size 0: read them, do not test -s.)
  procs=$(cat "$CGROUP_ROOT/cgroup.procs")
  if [ -n "$procs" ]; then
    mkdir -p "$CGROUP_ROOT/codeint-server"
    # This shell is in the list too: it, and so the command it execs, ends up in the leaf.
    for pid in $procs; do
      echo "$pid" >"$CGROUP_ROOT/codeint-server/cgroup.procs" 2>/dev/null || true
    done
    log info "moved the container's processes to $CGROUP_ROOT/codeint-server"
  fi
  for c in $missing; do
    if echo "+$c" >"$CGROUP_ROOT/cgroup.subtree_control" 2>/dev/null; then
      log info "enabled the $c controller for sandbox cgroups"
    else
      log warn "could not enable the $c controller in $CGROUP_ROOT (available: $(cat "$CGROUP_ROOT/cgroup.controllers")): the engine will not start"
    fi
  done
}

prepare_cgroup_v1() {
  for c in memory cpu pids freezer; do
    [ -e "$CGROUP_ROOT/$c" ] || continue
    # Docker links cpu -> cpu,cpuacct; the mount point is the link's target.
    make_writable "$(readlink -f "$CGROUP_ROOT/$c")"
  done
}

unmask_proc() {
  # Deepest first. binfmt_misc sits on a permanently empty directory, which the kernel allows.
  masks=$(awk '$2 ~ "^/proc/" && $2 !~ "^/proc/sys/fs/binfmt_misc" { print $2 }' /proc/self/mounts | sort -r)
  [ -n "$masks" ] || return 0
  for m in $masks; do
    umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || log warn "could not unmount the /proc mask $m"
  done
  log info "unmounted the runtime's masks over /proc ($(echo "$masks" | paste -sd, -))"
}

if [ "$(id -u)" = 0 ] && [ "${CODEINT_PREPARE:-1}" != 0 ]; then
  if [ -f "$CGROUP_ROOT/cgroup.controllers" ]; then
    prepare_cgroup_v2
  elif [ -d "$CGROUP_ROOT/memory" ]; then
    prepare_cgroup_v1
  fi
  unmask_proc
fi

exec "$@"
