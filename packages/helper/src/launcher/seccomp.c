/*
 * The job's seccomp filter: a deny list in the spirit of Docker's default
 * profile, plus an allow-list of socket families. The init installs it before
 * it forks the job, so both run under it.
 *
 * Architectures: x86-64 and arm64. A syscall made through any other ABI (i386
 * or x32 on an x86-64 kernel) fails with ENOSYS; building for another
 * architecture stops at the #error below.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/falloc.h>
#include <linux/filter.h>
#include <linux/seccomp.h>
#include <sched.h>
#include <stddef.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#include "launcher.h"

#if defined(__x86_64__)
#define NATIVE_ARCH AUDIT_ARCH_X86_64
#elif defined(__aarch64__)
#define NATIVE_ARCH AUDIT_ARCH_AARCH64
#else
#error "the job seccomp filter knows the syscall tables of x86-64 and arm64 only"
#endif

#define LOAD(field) BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, field))
#define RETURN(action) BPF_STMT(BPF_RET | BPF_K, (action))
#define REFUSE(err) RETURN(SECCOMP_RET_ERRNO | (err))
#define ALLOW RETURN(SECCOMP_RET_ALLOW)
/* Arguments are compared in their low 32 bits (little-endian): every argument tested here is an int. */
#define ARG(n) args[n]
#define DENY(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), REFUSE(EPERM)

int install_seccomp_filter(void) {
  struct sock_filter filter[] = {
    LOAD(arch),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, NATIVE_ARCH, 1, 0),
    REFUSE(ENOSYS),
    LOAD(nr),
#if defined(__x86_64__)
    /* x32 syscalls alias the x86-64 ones with a high bit: refuse them all. */
    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1),
    REFUSE(ENOSYS),
#endif
    /* clone3 passes flags in memory the filter cannot read; ENOSYS makes libc fall back to clone. */
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1),
    REFUSE(ENOSYS),
    /* clone: no namespace flag (CLONE_NEWUSER above all). */
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 4),
    LOAD(ARG(0)),
    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID |
             CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP, 0, 1),
    REFUSE(EPERM),
    ALLOW,
    /* socket, socketpair: only the families a job needs. A network namespace does not cover AF_VSOCK. */
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_socket, 1, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_socketpair, 0, 7),
    LOAD(ARG(0)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_UNIX, 4, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET, 3, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_INET6, 2, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AF_NETLINK, 1, 0),
    REFUSE(EAFNOSUPPORT),
    ALLOW,
    /*
     * fallocate with FALLOC_FL_KEEP_SIZE (and so PUNCH_HOLE) allocates blocks
     * past the end of a file without growing its size, which no size check and
     * no RLIMIT_FSIZE sees: on the job's output, that would fill the host's disk.
     */
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_fallocate, 0, 4),
    LOAD(ARG(1)),
    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, FALLOC_FL_KEEP_SIZE, 0, 1),
    REFUSE(EOPNOTSUPP),
    ALLOW,
    /* personality: only the default and the query (0xffffffff). */
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_personality, 0, 5),
    LOAD(ARG(0)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0, 2, 0),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xffffffff, 1, 0),
    REFUSE(EPERM),
    ALLOW,
    /* Namespaces and mounts. */
    DENY(SYS_unshare), DENY(SYS_setns), DENY(SYS_mount), DENY(SYS_umount2), DENY(SYS_pivot_root),
    DENY(SYS_open_tree), DENY(SYS_move_mount), DENY(SYS_fsopen), DENY(SYS_fsconfig), DENY(SYS_fsmount),
    DENY(SYS_fspick), DENY(SYS_mount_setattr),
    /* Kernel attack surface a job has no use for. */
    DENY(SYS_keyctl), DENY(SYS_add_key), DENY(SYS_request_key), DENY(SYS_bpf), DENY(SYS_perf_event_open),
    DENY(SYS_io_uring_setup), DENY(SYS_io_uring_enter), DENY(SYS_io_uring_register), DENY(SYS_userfaultfd),
#ifdef SYS_memfd_secret
    DENY(SYS_memfd_secret),
#endif
    DENY(SYS_open_by_handle_at), DENY(SYS_name_to_handle_at), DENY(SYS_lookup_dcookie), DENY(SYS_acct),
    DENY(SYS_quotactl), DENY(SYS_ptrace), DENY(SYS_process_vm_readv), DENY(SYS_process_vm_writev),
    DENY(SYS_kcmp),
    /* The host itself: modules, kexec, reboot, swap, clock. */
    DENY(SYS_init_module), DENY(SYS_finit_module), DENY(SYS_delete_module), DENY(SYS_kexec_load),
    DENY(SYS_kexec_file_load), DENY(SYS_reboot), DENY(SYS_swapon), DENY(SYS_swapoff), DENY(SYS_settimeofday),
    DENY(SYS_clock_settime), DENY(SYS_clock_adjtime),
#if defined(__x86_64__)
    DENY(SYS_iopl), DENY(SYS_ioperm),
#endif
    ALLOW,
  };
  struct sock_fprog program = { .len = sizeof filter / sizeof filter[0], .filter = filter };
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program);
}
