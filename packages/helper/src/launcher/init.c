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
#include <sys/stat.h>
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

void report_failures_to(int fd) {
  failure_fd = fd;
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

#define KEPT_FDS 5

/* Closes every fd from 3 up but the listed ones (-1 for none). */
static void close_fds_except(const int listed[KEPT_FDS]) {
  int keep[KEPT_FDS];
  memcpy(keep, listed, sizeof keep);
  for (int i = 0; i < KEPT_FDS; i++) /* sort them */
    for (int j = i + 1; j < KEPT_FDS; j++)
      if (keep[j] < keep[i]) { int t = keep[i]; keep[i] = keep[j]; keep[j] = t; }
  unsigned int from = 3;
  for (int i = 0; i < KEPT_FDS; i++) {
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
void drop_privileges(const struct options *o) {
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

/*
 * Opens a terminal in the job's own devpts (the view is built, privileges not
 * yet dropped), owned by the job's uid, with the client's window size. The
 * leader side goes to the launcher, which feeds it input and copies its output
 * into the job's output; the follower side is returned, for the job.
 */
int open_terminal(const struct options *o, int tty_socket) {
  int leader = open("/dev/ptmx", O_RDWR | O_NOCTTY | O_CLOEXEC);
  CHECK(leader, "open", "/dev/ptmx");
  int unlock = 0, number;
  CHECK(ioctl(leader, TIOCSPTLCK, &unlock), "ioctl(TIOCSPTLCK)", "/dev/ptmx");
  CHECK(ioctl(leader, TIOCGPTN, &number), "ioctl(TIOCGPTN)", "/dev/ptmx");
  struct winsize size = { .ws_row = o->rows, .ws_col = o->columns };
  CHECK(ioctl(leader, TIOCSWINSZ, &size), "ioctl(TIOCSWINSZ)", "/dev/ptmx");
  char path[64];
  snprintf(path, sizeof path, "/dev/pts/%d", number);
  int follower = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
  CHECK(follower, "open", path);
  CHECK(fchown(follower, o->uid, o->gid), "fchown", path);
  CHECK(fchmod(follower, 0620), "fchmod", path);
  char byte = 0;
  char control[CMSG_SPACE(sizeof(int))];
  memset(control, 0, sizeof control);
  struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
  struct msghdr message = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
  struct cmsghdr *header = CMSG_FIRSTHDR(&message);
  header->cmsg_level = SOL_SOCKET;
  header->cmsg_type = SCM_RIGHTS;
  header->cmsg_len = CMSG_LEN(sizeof(int));
  memcpy(CMSG_DATA(header), &leader, sizeof leader);
  CHECK(sendmsg(tty_socket, &message, 0), "sendmsg", "terminal");
  close(leader);
  close(tty_socket);
  return follower;
}

/* Runs in the job's main process: its files, its working directory (entered as its uid), exec. */
static void exec_job(const struct options *o, int stdin_fd, int terminal, int log_fd, const sigset_t *original_mask) {
  CHECK(sigprocmask(SIG_SETMASK, original_mask, NULL), "sigprocmask", "-");
  /* Past its output limit a write fails with EFBIG instead of killing the job; the server ends it. */
  if (signal(SIGXFSZ, SIG_IGN) == SIG_ERR) fail("signal", "SIGXFSZ");
  if (terminal >= 0) {
    /* Its own session with the terminal as the controlling one: Ctrl-C, job control, SIGWINCH, SIGHUP. */
    CHECK(setsid(), "setsid", "-");
    CHECK(ioctl(terminal, TIOCSCTTY, 0), "ioctl(TIOCSCTTY)", "terminal");
    for (int fd = 0; fd <= 2; fd++) CHECK(dup2(terminal, fd), "dup2", "terminal");
  } else {
    CHECK(dup2(stdin_fd, 0), "dup2", "stdin");
    CHECK(dup2(log_fd, 1), "dup2", "output");
    CHECK(dup2(log_fd, 2), "dup2", "output");
  }
  CHECK(chdir(o->workdir), "chdir", o->workdir);
  /* Everything but 0-2 and the close-on-exec failure pipe goes before the user's code runs. */
  CHECK(close_range(3, ~0U, CLOSE_RANGE_CLOEXEC), "close_range", "-");
  execve(o->argv[0], o->argv, environ);
  fail("execve", o->argv[0]);
}

/* PID 1 of the job's namespaces. Returns the main process's wait status through status_fd. */
_Noreturn void run_init(const struct options *o, const struct init_fds *fds) {
  failure_fd = fds->failure;
  int log_fd = fds->log, status_fd = fds->status;
  /* If the outer launcher dies, so does the job: nobody would be left to record its end. */
  CHECK(prctl(PR_SET_PDEATHSIG, SIGKILL), "prctl(PR_SET_PDEATHSIG)", "-");
  /* The launcher's files (handshake socket, control FIFO, exit record, cgroup) are not the init's. */
  close_fds_except((int[KEPT_FDS]){ failure_fd, status_fd, log_fd, fds->stdin_read, fds->tty_socket });
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
  int terminal = o->stdin_kind == STDIN_TTY ? open_terminal(o, fds->tty_socket) : -1;
  int stdin_fd = o->stdin_kind == STDIN_PIPE ? fds->stdin_read : null_fd;
  drop_privileges(o);

  /* Block the signals we handle so none is lost between fork and sigwaitinfo. */
  sigset_t handled, original;
  int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
  sigemptyset(&handled);
  sigaddset(&handled, SIGCHLD);
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) sigaddset(&handled, forwarded[i]);
  sigaddset(&handled, SIGNAL_CARRIER);
  CHECK(sigprocmask(SIG_BLOCK, &handled, &original), "sigprocmask", "-");

  pid_t job = fork();
  CHECK(job, "fork", "-");
  if (job == 0) exec_job(o, stdin_fd, terminal, log_fd, &original);
  close(failure_fd);
  close(log_fd);
  close(null_fd);
  if (fds->stdin_read >= 0) close(fds->stdin_read);
  if (terminal >= 0) close(terminal);

  for (;;) {
    siginfo_t info;
    if (sigwaitinfo(&handled, &info) < 0) continue;
    if (info.si_signo == SIGNAL_CARRIER) {
      /* The launcher's "send this signal to the job" (attach.c); any signal, SIGKILL and SIGSTOP too. */
      int sig = info.si_value.sival_int;
      if (info.si_code == SI_QUEUE && sig > 0 && sig < NSIG) kill(job, sig);
      continue;
    }
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

