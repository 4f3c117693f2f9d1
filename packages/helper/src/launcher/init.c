/*
 * The job's init (PID 1 of its namespaces) and the job's main process: the
 * init joins the cgroups, builds the view, drops every privilege and forks the
 * job, then reaps and forwards signals until the job's main process ends.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <grp.h>
#include <net/if.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launcher.h"

#define JOB_MAX_FDS 4096 /* the job's RLIMIT_NOFILE: the server's own limit is far higher */

static int failure_fd = -1; /* close-on-exec pipe to the launcher: setup and exec failures */

/* "call path" on one line: a path can hold any byte but NUL, and the reply is a text line. */
void describe_call(char *out, size_t size, const char *call, const char *path) {
  snprintf(out, size, "%s %s", call, path ? path : "-");
  for (char *c = out; *c; c++)
    if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
}

_Noreturn void fail(const char *call, const char *path) {
  struct failure f = { .err = errno };
  describe_call(f.what, sizeof f.what, call, path);
  if (write(failure_fd, &f, sizeof f) < 0) _exit(126);
  _exit(127);
}

static void bring_up_loopback(void) {
  struct ifreq ifr = { 0 };
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  CHECK(sock, "socket", "AF_INET");
  strcpy(ifr.ifr_name, "lo");
  CHECK(ioctl(sock, SIOCGIFFLAGS, &ifr), "ioctl(SIOCGIFFLAGS)", "lo");
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  CHECK(ioctl(sock, SIOCSIFFLAGS, &ifr), "ioctl(SIOCSIFFLAGS)", "lo");
  close(sock);
}

/* Closes every fd from 3 up but the (at most three) listed ones. */
static void close_fds_except(int a, int b, int c) {
  int keep[3] = { a, b, c };
  for (int i = 0; i < 3; i++) /* sort the three */
    for (int j = i + 1; j < 3; j++)
      if (keep[j] < keep[i]) { int t = keep[i]; keep[i] = keep[j]; keep[j] = t; }
  unsigned int from = 3;
  for (int i = 0; i < 3; i++) {
    if (keep[i] < (int)from) continue;
    if ((unsigned int)keep[i] > from) CHECK(close_range(from, (unsigned int)keep[i] - 1, 0), "close_range", "-");
    from = (unsigned int)keep[i] + 1;
  }
  CHECK(close_range(from, ~0U, 0), "close_range", "-");
}

static void set_limit(int resource, unsigned long long value, const char *name) {
  struct rlimit limit = { value, value };
  CHECK(setrlimit(resource, &limit), "setrlimit", name);
}

/*
 * The init keeps no privilege once the view is built: it becomes the job's
 * uid with no capabilities, not dumpable (so the job can neither ptrace it nor
 * open its /proc files), under the job's seccomp filter and rlimits, which the
 * job inherits. A namespace's init gets no signal from inside it that it has
 * not asked for, so the job cannot signal it to any effect either.
 */
static void drop_privileges(const struct options *o) {
  for (int cap = 0; prctl(PR_CAPBSET_READ, cap) >= 0; cap++)
    CHECK(prctl(PR_CAPBSET_DROP, cap), "prctl(PR_CAPBSET_DROP)", "-");
  CHECK(setgroups(0, NULL), "setgroups", "-");
  CHECK(setresgid(o->gid, o->gid, o->gid), "setresgid", "-");
  CHECK(setresuid(o->uid, o->uid, o->uid), "setresuid", "-"); /* clears every capability */
  CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), "prctl(PR_SET_NO_NEW_PRIVS)", "-");
  CHECK(prctl(PR_SET_DUMPABLE, 0, 0, 0, 0), "prctl(PR_SET_DUMPABLE)", "-");
  /* A change of credentials clears the parent-death signal: set it again. */
  CHECK(prctl(PR_SET_PDEATHSIG, SIGKILL), "prctl(PR_SET_PDEATHSIG)", "-");
  set_limit(RLIMIT_NOFILE, JOB_MAX_FDS, "RLIMIT_NOFILE");
  set_limit(RLIMIT_FSIZE, o->output_limit, "RLIMIT_FSIZE");
  set_limit(RLIMIT_CORE, 0, "RLIMIT_CORE"); /* a crash must not write a core file on the host's behalf */
  CHECK(install_seccomp_filter(), "prctl(PR_SET_SECCOMP)", "-");
}

/* Runs in the job's main process: its files, its working directory (entered as its uid), exec. */
static void exec_job(const struct options *o, int null_fd, int log_fd, const sigset_t *original_mask) {
  CHECK(sigprocmask(SIG_SETMASK, original_mask, NULL), "sigprocmask", "-");
  /* Past its output limit a write fails with EFBIG instead of killing the job; the server ends it. */
  if (signal(SIGXFSZ, SIG_IGN) == SIG_ERR) fail("signal", "SIGXFSZ");
  CHECK(dup2(null_fd, 0), "dup2", "/dev/null");
  CHECK(dup2(log_fd, 1), "dup2", "output");
  CHECK(dup2(log_fd, 2), "dup2", "output");
  CHECK(chdir(o->workdir), "chdir", o->workdir);
  /* Everything but 0-2 and the close-on-exec failure pipe goes before the user's code runs. */
  CHECK(close_range(3, ~0U, CLOSE_RANGE_CLOEXEC), "close_range", "-");
  execve(o->argv[0], o->argv, environ);
  fail("execve", o->argv[0]);
}

/* PID 1 of the job's namespaces. Returns the main process's wait status through status_fd. */
_Noreturn void run_init(const struct options *o, int failure_pipe, int log_fd, int status_fd) {
  failure_fd = failure_pipe;
  /* If the outer launcher dies, so does the job: nobody would be left to record its end. */
  CHECK(prctl(PR_SET_PDEATHSIG, SIGKILL), "prctl(PR_SET_PDEATHSIG)", "-");
  /* The launcher's files (handshake socket, control FIFO, exit record, cgroup) are not the init's. */
  close_fds_except(failure_fd, status_fd, log_fd);
  /*
   * Join the v1 hierarchies through "tasks", not "cgroup.procs": this process is
   * single-threaded, so moving the calling thread moves all of it, and the kernel
   * then skips the global threadgroup lock, whose write side waits for an RCU
   * grace period (milliseconds while other jobs' namespaces are being torn down).
   */
  for (int i = 0; i < o->cgroup1_count; i++) {
    char path[4096];
    snprintf(path, sizeof path, "%s/tasks", o->cgroup1[i]);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    CHECK(fd, "open", path);
    CHECK(write(fd, "0", 1), "write", path);
    close(fd);
  }
  CHECK(unshare(CLONE_NEWCGROUP), "unshare(CLONE_NEWCGROUP)", "-");
  build_filesystem_view(o);
  CHECK(sethostname(o->hostname, strlen(o->hostname)), "sethostname", o->hostname);
  bring_up_loopback();
  int null_fd = open("/dev/null", O_RDWR | O_CLOEXEC);
  CHECK(null_fd, "open", "/dev/null");
  for (int fd = 0; fd <= 2; fd++) CHECK(dup2(null_fd, fd), "dup2", "/dev/null"); /* the launcher's log was fd 2 */
  drop_privileges(o);

  /* Block the signals we handle so none is lost between fork and sigwaitinfo. */
  sigset_t handled, original;
  int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
  sigemptyset(&handled);
  sigaddset(&handled, SIGCHLD);
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) sigaddset(&handled, forwarded[i]);
  CHECK(sigprocmask(SIG_BLOCK, &handled, &original), "sigprocmask", "-");

  pid_t job = fork();
  CHECK(job, "fork", "-");
  if (job == 0) exec_job(o, null_fd, log_fd, &original);
  close(failure_fd);
  close(log_fd);
  close(null_fd);

  for (;;) {
    siginfo_t info;
    if (sigwaitinfo(&handled, &info) < 0) continue;
    if (info.si_signo != SIGCHLD) {
      kill(job, info.si_signo);
      continue;
    }
    int status;
    pid_t reaped;
    while ((reaped = waitpid(-1, &status, WNOHANG)) > 0) {
      if (reaped != job) continue; /* an orphan: reaped, nothing else to do */
      int32_t wire = status;
      if (write(status_fd, &wire, sizeof wire) < 0) _exit(126);
      /* Our exit takes the rest of the namespace with it: the kernel kills it all. */
      _exit(0);
    }
  }
}

