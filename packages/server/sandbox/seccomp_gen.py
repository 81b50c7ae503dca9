#!/usr/bin/python3
"""Emit the sandbox's seccomp filter as raw classic BPF (struct sock_filter[]).

Usage: /usr/bin/python3 seccomp_gen.py > filter.bpf   (then bwrap --seccomp FD)
Needs Debian's python3-seccomp (libseccomp binding), hence /usr/bin/python3.
Pass --pfc to print the human-readable pseudo-filter instead.

Policy: default ALLOW, deny a denylist of kernel-attack-surface / escape
syscalls with EPERM. Only the native arch is in the filter: any other arch
(x86 int 0x80, and x32 — libseccomp treats x32 as a separate arch, so x32
syscall numbers with __X32_SYSCALL_BIT hit the bad-arch action) is killed by
libseccomp's default ACT_BADARCH=KILL, which we deliberately keep.
"""
import errno
import sys

import seccomp

EPERM = seccomp.ERRNO(errno.EPERM)

# Missing any of these means the filter would be dangerously incomplete: fail.
CORE = {"mount", "umount2", "pivot_root", "chroot", "ptrace", "bpf", "unshare",
        "setns", "clone", "clone3", "keyctl", "ioctl", "socket", "personality"}

DENY = [
    # Filesystem namespace manipulation (old and new mount API).
    "mount", "umount2", "pivot_root", "chroot", "move_mount", "open_tree",
    "fsopen", "fsconfig", "fsmount", "fspick", "mount_setattr",
    # Reading/writing/inspecting other processes.
    "ptrace", "process_vm_readv", "process_vm_writev", "kcmp", "pidfd_getfd",
    # Big kernel attack surface, common in exploit chains.
    "bpf", "perf_event_open", "userfaultfd",
    "io_uring_setup", "io_uring_enter", "io_uring_register",
    # Kernel keyring is not namespaced.
    "keyctl", "add_key", "request_key",
    # Host administration.
    "kexec_load", "kexec_file_load", "init_module", "finit_module",
    "delete_module", "reboot", "swapon", "swapoff", "syslog", "acct",
    "quotactl", "lookup_dcookie", "vhangup", "iopl", "ioperm",
    # The clock is host-global.
    "settimeofday", "clock_settime", "clock_adjtime", "adjtimex",
    # No new namespaces (user namespaces unlock lots of kernel code).
    "unshare", "setns",
    # File handles bypass path-based confinement (shocker-style escapes).
    "name_to_handle_at", "open_by_handle_at",
]

# CLONE_NEW{NS,CGROUP,UTS,IPC,USER,PID,NET}. CLONE_NEWTIME (0x80) is not
# listed: in clone()'s flags that bit is part of the exit signal (CSIGNAL),
# it is only honoured by unshare/clone3, which are blocked anyway.
CLONE_NEW_FLAGS = [0x00020000, 0x02000000, 0x04000000, 0x08000000,
                   0x10000000, 0x20000000, 0x40000000]

LOW32 = 0xFFFFFFFF
TIOCSTI, TIOCLINUX = 0x5412, 0x541C  # fake terminal input / console control
AF_VSOCK = 40  # host<->guest sockets: reach the hypervisor/host


def rule(f, action, name, *args):
    try:
        f.add_rule(action, name, *args)
    except (RuntimeError, ValueError) as e:
        if name in CORE:
            raise
        print(f"seccomp_gen: skipping {name}: {e}", file=sys.stderr)


def build():
    f = seccomp.SyscallFilter(defaction=seccomp.ALLOW)
    # Native arch only (added by default); make sure nothing else sneaks in.
    assert not f.exist_arch(seccomp.Arch.X32)
    assert f.get_attr(seccomp.Attr.ACT_BADARCH) == seccomp.KILL

    for name in DENY:
        rule(f, EPERM, name)

    # clone: threads/fork fine, namespace creation not (multiple rules = OR).
    for flag in CLONE_NEW_FLAGS:
        rule(f, EPERM, "clone", seccomp.Arg(0, seccomp.MASKED_EQ, flag, flag))
    # clone3 passes flags in a struct we cannot inspect; ENOSYS makes glibc
    # fall back to clone().
    rule(f, seccomp.ERRNO(errno.ENOSYS), "clone3")

    # int args: the kernel only looks at the low 32 bits, so compare those.
    rule(f, EPERM, "socket", seccomp.Arg(0, seccomp.MASKED_EQ, LOW32, AF_VSOCK))
    for req in (TIOCSTI, TIOCLINUX):
        rule(f, EPERM, "ioctl", seccomp.Arg(1, seccomp.MASKED_EQ, LOW32, req))

    # personality: allow only PER_LINUX (0) and the 0xffffffff query.
    # libseccomp allows one comparison per argument per rule, so "x not in
    # {0, 0xffffffff}" is written as a union: any 32-bit x other than all-0s /
    # all-1s has some bit i set with bit i+1 (cyclically) clear. Values above
    # 32 bits are denied too (glibc truncates the argument to unsigned int).
    for i in range(32):
        bit, nxt = 1 << i, 1 << ((i + 1) % 32)
        rule(f, EPERM, "personality",
             seccomp.Arg(0, seccomp.MASKED_EQ, bit | nxt, bit))
    rule(f, EPERM, "personality", seccomp.Arg(0, seccomp.GT, LOW32))
    return f


if __name__ == "__main__":
    flt = build()
    if "--pfc" in sys.argv[1:]:
        flt.export_pfc(sys.stdout)
    else:
        sys.stdout.flush()
        flt.export_bpf(sys.stdout.buffer)
