/*
 * jobworker-launcher: puts jobs into their namespaces and cgroups, then execs them.
 *
 * Process tree (pids as seen from the host):
 *
 *   service            "--serve": one per server; forks a launcher per request
 *     `- launcher      one per job, own session; owns the init's pidfd; writes the exit record
 *          `- init     PID 1 of the new namespaces, as the job's uid with no capabilities;
 *               |      reaps, forwards signals
 *               `- job the user's program, unprivileged and seccomp-filtered
 *
 * The server starts the service once instead of spawning a launcher per job:
 * forking this small process costs far less than forking the server, and the
 * server's event loop never stops for a fork.
 *
 * Protocol with the caller (see launcher-service.ts), on the stream socket at fd 3:
 *   request   u32 size, then u32 id, u32 argc, u32 envc, and argc + envc
 *             NUL-terminated strings: the options, "--", the absolute executable
 *             and its arguments, then exactly the job's environment
 *   replies   text lines, each one write(): "<id> forked <launcher-pid>" from the service,
 *             then "<id> started <init-host-pid> <launcher-pid>" or
 *             "<id> error <errno> <launcher-pid> <call> <path>" from the launcher, and
 *             "exited <launcher-pid> <status>" once the service has reaped it
 *   EOF       the caller is gone: the service exits; launchers and jobs run on
 *   <job-dir>/control      FIFO; the words "term" and "kill" ask for a stop
 *   <job-dir>/exit.json    written atomically once the init has been reaped
 *   <job-dir>/launcher.log the launcher's own diagnostics
 *
 * The other parts: filesystem.c builds the job's view, seccomp.c its filter.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#include "launcher.h"

#define JOB_MAX_FDS 4096 /* the job's RLIMIT_NOFILE: the server's own limit is far higher */
#define HANDSHAKE_FD 3 /* the service's socket to the caller */
#define MAX_REQUEST_BYTES (64u << 20)
#define WHAT_BYTES 240 /* "call path" of a failure: fits one atomic pipe write with its errno */

/* The inode flag that makes a file append-only (linux/fs.h clashes with sys/mount.h). */
#define APPEND_ONLY_FLAG 0x00000020
#define GET_INODE_FLAGS _IOR('f', 1, long)
#define SET_INODE_FLAGS _IOW('f', 2, long)

struct failure {
  int32_t err;
  char what[WHAT_BYTES];
};

static int failure_fd = -1; /* close-on-exec pipe: setup and exec failures */
static uint32_t request_id;  /* the caller's id for the job this launcher starts */
static char *role_arg;       /* the service's argv[1]: relabelled "job" in each launcher, for ps */

/* "call path" on one line: a path can hold any byte but NUL, and the reply is a text line. */
static void describe(char *out, size_t size, const char *call, const char *path) {
  snprintf(out, size, "%s %s", call, path ? path : "-");
  for (char *c = out; *c; c++)
    if ((unsigned char)*c < 0x20 || *c == 0x7f) *c = '?';
}

_Noreturn void fail(const char *call, const char *path) {
  struct failure f = { .err = errno };
  describe(f.what, sizeof f.what, call, path);
  if (write(failure_fd, &f, sizeof f) < 0) _exit(126);
  _exit(127);
}

/* A decimal number in [min, max], all of the text and nothing else: no sign, no space, no overflow. */
static int parse_number(const char *text, unsigned long long min, unsigned long long max, unsigned long long *out) {
  if (text[0] < '0' || text[0] > '9') return -1;
  char *end;
  errno = 0;
  unsigned long long value = strtoull(text, &end, 10);
  if (errno != 0 || *end != '\0' || value < min || value > max) return -1;
  *out = value;
  return 0;
}

/* Every option is required except the cgroups, --hide, the system dirs and the exposed paths. */
static int parse_options(int argc, char **argv, struct options *o) {
  unsigned long long uid = 0, gid = 0;
  memset(o, 0, sizeof *o);
  for (int i = 1; i < argc; i++) {
    const char *flag = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(flag, "--") == 0) {
      o->argv = &argv[i + 1];
      break;
    }
    if (value == NULL) return -1;
    i++;
    int bad = 0;
    if (strcmp(flag, "--job-dir") == 0) o->job_dir = value;
    else if (strcmp(flag, "--log") == 0) o->log_path = value;
    else if (strcmp(flag, "--hostname") == 0) o->hostname = value;
    else if (strcmp(flag, "--workdir") == 0) o->workdir = value;
    else if (strcmp(flag, "--private-dir") == 0) o->private_dir = value;
    else if (strcmp(flag, "--hide") == 0) o->hide_dir = value;
    else if (strcmp(flag, "--cgroup2") == 0) o->cgroup2 = value;
    else if (strcmp(flag, "--cgroup1") == 0 && o->cgroup1_count < MAX_V1_CGROUPS)
      o->cgroup1[o->cgroup1_count++] = value;
    else if (strcmp(flag, "--system") == 0 && o->system_dir_count < MAX_SYSTEM_DIRS && value[0] == '/')
      o->system_dirs[o->system_dir_count++] = value;
    else if ((strcmp(flag, "--expose-ro") == 0 || strcmp(flag, "--expose-rw") == 0) &&
             o->exposed_count < MAX_EXPOSED && value[0] == '/')
      o->exposed[o->exposed_count++] = (struct exposed_path){ value, flag[9] == 'r' && flag[10] == 'w' };
    /* Ids 0 (root) and 2^32-1 ((uid_t)-1, which makes setresuid a no-op) are never a job's. */
    else if (strcmp(flag, "--uid") == 0) bad = parse_number(value, 1, UINT32_MAX - 1, &uid);
    else if (strcmp(flag, "--gid") == 0) bad = parse_number(value, 1, UINT32_MAX - 1, &gid);
    else if (strcmp(flag, "--disk-bytes") == 0) bad = parse_number(value, 4096, 1ULL << 50, &o->disk_bytes);
    else if (strcmp(flag, "--disk-inodes") == 0) bad = parse_number(value, 64, 1ULL << 32, &o->disk_inodes);
    else if (strcmp(flag, "--output-limit") == 0) bad = parse_number(value, 1, 1ULL << 62, &o->output_limit);
    else return -1;
    if (bad) return -1;
  }
  o->uid = (uid_t)uid;
  o->gid = (gid_t)gid;
  if (!o->argv || !o->argv[0] || o->argv[0][0] != '/' || !o->job_dir || !o->log_path || !o->hostname ||
      !o->workdir || o->workdir[0] != '/' || !o->private_dir || o->private_dir[0] != '/' || uid == 0 ||
      gid == 0 || o->disk_bytes == 0 || o->disk_inodes == 0 || o->output_limit == 0)
    return -1;
  return 0;
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
static _Noreturn void run_init(const struct options *o, int log_fd, int status_fd) {
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

/*
 * Sets or clears the output's append-only inode flag. Set, the job can only
 * add bytes: it can neither clear O_APPEND, nor truncate, nor open the file
 * for writing anew, so what readers were sent stays what is on disk.
 */
static int set_append_only(int fd, int on) {
  int flags;
  if (ioctl(fd, GET_INODE_FLAGS, &flags) < 0) return -1;
  flags = on ? flags | APPEND_ONLY_FLAG : flags & ~APPEND_ONLY_FLAG;
  return ioctl(fd, SET_INODE_FLAGS, &flags);
}

#define EXIT_RECORD_BYTES 128

/*
 * Creates <job-dir>/exit.json.tmp at start, already EXIT_RECORD_BYTES long, so
 * the record can still be written when the job has filled the disk since. The
 * write itself reserves the space (delayed allocation counts it at once); an
 * fsync here would only make every job start wait for a journal commit.
 */
static int reserve_exit_record(const char *job_dir) {
  char tmp[4096], padding[EXIT_RECORD_BYTES];
  snprintf(tmp, sizeof tmp, "%s/exit.json.tmp", job_dir);
  memset(padding, ' ', sizeof padding);
  int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  if (write(fd, padding, sizeof padding) != (ssize_t)sizeof padding) {
    close(fd);
    return -1;
  }
  return fd;
}

/* Fills the reserved file in place, then renames it to exit.json: readers never see half of it. */
static int write_exit_record(int fd, const char *job_dir, int have_status, int status) {
  char tmp[4096], final[4096], body[EXIT_RECORD_BYTES];
  snprintf(tmp, sizeof tmp, "%s/exit.json.tmp", job_dir);
  snprintf(final, sizeof final, "%s/exit.json", job_dir);
  if (!have_status) snprintf(body, sizeof body, "{\"signal\":%d,\"statusKnown\":false}\n", SIGKILL);
  else if (WIFEXITED(status)) snprintf(body, sizeof body, "{\"exitCode\":%d}\n", WEXITSTATUS(status));
  else snprintf(body, sizeof body, "{\"signal\":%d}\n", WTERMSIG(status));
  ssize_t len = (ssize_t)strlen(body);
  int ok = pwrite(fd, body, len, 0) == len && ftruncate(fd, len) == 0 && fsync(fd) == 0;
  close(fd);
  return ok ? rename(tmp, final) : -1;
}

/*
 * Obeys "term" and "kill" on the control FIFO until the init exits, then makes
 * the output an ordinary file again (no process of the job is left to write
 * it) and writes the exit record.
 */
static void supervise(int pidfd, int control_fd, int status_fd, int record_fd, int log_fd, const char *job_dir) {
  struct pollfd fds[2] = { { .fd = pidfd, .events = POLLIN }, { .fd = control_fd, .events = POLLIN } };
  while (!(fds[0].revents & POLLIN)) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      perror("launcher: poll");
      break;
    }
    if (fds[1].revents & POLLIN) {
      char word[64];
      ssize_t n = read(control_fd, word, sizeof word - 1);
      if (n <= 0) continue;
      word[n] = '\0';
      int sig = strstr(word, "kill") ? SIGKILL : strstr(word, "term") ? SIGTERM : 0;
      if (sig && syscall(SYS_pidfd_send_signal, pidfd, sig, NULL, 0) < 0)
        perror("launcher: pidfd_send_signal");
    }
  }
  siginfo_t info;
  if (waitid(P_PIDFD, pidfd, &info, WEXITED) < 0) perror("launcher: waitid");
  int32_t status = 0;
  int have_status = read(status_fd, &status, sizeof status) == sizeof status;
  if (set_append_only(log_fd, 0) < 0) perror("launcher: clearing the output's append-only flag");
  if (write_exit_record(record_fd, job_dir, have_status, status) < 0) {
    perror("launcher: writing exit record");
    exit(1);
  }
}

/* Answers the caller's request, in one write so lines of concurrent launchers never interleave. */
static void reply(const char *line, int length) {
  if (write(HANDSHAKE_FD, line, (size_t)length) < 0) perror("launcher: handshake");
  close(HANDSHAKE_FD);
}

static void reply_started(long init) {
  char line[96];
  reply(line, snprintf(line, sizeof line, "%u started %ld %d\n", request_id, init, (int)getpid()));
}

static void reply_error(int err, const char *what) {
  char line[WHAT_BYTES + 64];
  int length = snprintf(line, sizeof line, "%u error %d %d %s\n", request_id, err, (int)getpid(), what);
  reply(line, length < (int)sizeof line ? length : (int)sizeof line - 1);
}

/* Reports a failed call of the launcher itself (before the init exists); returns its exit code. */
static int refuse(const char *call, const char *path) {
  char what[WHAT_BYTES];
  int err = errno;
  describe(what, sizeof what, call, path);
  reply_error(err, what);
  return 1;
}

/* One job, in a process forked by the service: set up, clone the init, report, supervise. */
static int launch_job(int argc, char **argv) {
  struct options o;
  if (parse_options(argc, argv, &o) < 0) {
    errno = EINVAL;
    return refuse("parse", "arguments");
  }
  /* Diagnostics go to the job dir: the launcher outlives the server and its stderr. */
  char path[4096];
  snprintf(path, sizeof path, "%s/launcher.log", o.job_dir);
  int diagnostics = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (diagnostics < 0) diagnostics = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (diagnostics >= 0) {
    dup2(diagnostics, 2);
    close(diagnostics);
  }
  /* Own session: the job outlives the server, and no terminal signal reaches it from there. */
  setsid();

  int failure_pipe[2], status_pipe[2], control_fd, log_fd, record_fd, cgroup_fd = -1;
  if (pipe2(failure_pipe, O_CLOEXEC) < 0 || pipe2(status_pipe, O_CLOEXEC) < 0) return refuse("pipe2", "-");
  snprintf(path, sizeof path, "%s/control", o.job_dir);
  if (mkfifo(path, 0600) < 0 && errno != EEXIST) return refuse("mkfifo", path);
  if ((control_fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0) return refuse("open", path);
  if ((record_fd = reserve_exit_record(o.job_dir)) < 0) return refuse("reserve", "exit.json.tmp");
  if (o.cgroup2 && (cgroup_fd = open(o.cgroup2, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)
    return refuse("open", o.cgroup2);
  if ((log_fd = open(o.log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0)
    return refuse("open", o.log_path);
  if (set_append_only(log_fd, 1) < 0) return refuse("ioctl(FS_IOC_SETFLAGS)", o.log_path);

  int pidfd = -1;
  struct clone_args args = {
    .flags = CLONE_NEWPID | CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_PIDFD |
             (cgroup_fd >= 0 ? CLONE_INTO_CGROUP : 0),
    .pidfd = (uint64_t)(uintptr_t)&pidfd,
    .exit_signal = SIGCHLD,
    .cgroup = (uint64_t)(cgroup_fd >= 0 ? cgroup_fd : 0),
  };
  long init = syscall(SYS_clone3, &args, sizeof args);
  if (init == 0) {
    failure_fd = failure_pipe[1];
    run_init(&o, log_fd, status_pipe[1]);
  }
  if (init < 0) {
    int err = errno;
    set_append_only(log_fd, 0);
    errno = err;
    return refuse("clone3", "-");
  }
  close(failure_pipe[1]);
  close(status_pipe[1]);
  /* Ignored only here, after the clone: an ignored signal would stay ignored across the job's exec. */
  signal(SIGPIPE, SIG_IGN);

  /* The failure pipe closes unread when the job's exec succeeds: that is "started". */
  struct failure f;
  ssize_t n;
  while ((n = read(failure_pipe[0], &f, sizeof f)) < 0 && errno == EINTR) {}
  if (n == sizeof f) {
    f.what[sizeof f.what - 1] = '\0';
    reply_error(f.err, f.what);
  } else {
    reply_started(init);
  }
  close(failure_pipe[0]);

  supervise(pidfd, control_fd, status_pipe[0], record_fd, log_fd, o.job_dir);
  return 0;
}

/* Tells the caller about every launcher that has exited (the service is their parent). */
static void reap_launchers(void) {
  int status;
  pid_t pid;
  while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
    char line[64];
    int len = snprintf(line, sizeof line, "exited %d %d\n", (int)pid, status);
    if (write(HANDSHAKE_FD, line, (size_t)len) < 0 && errno != EPIPE) perror("launcher service: report");
  }
}

static uint32_t take_u32(const char **at) {
  uint32_t value;
  memcpy(&value, *at, sizeof value);
  *at += sizeof value;
  return value;
}

/* Forks a launcher for one request. A malformed request is answered like bad arguments. */
static void start_launcher(const char *request, uint32_t size, const sigset_t *original_mask, int signal_fd) {
  const char *at = request, *end = request + size;
  if (size < 12) { fprintf(stderr, "launcher service: request without a header, ignored\n"); return; }
  uint32_t id = take_u32(&at), argc = take_u32(&at), envc = take_u32(&at);
  if (argc > size || envc > size) argc = envc = 0;
  char **strings = calloc((size_t)argc + envc + 3, sizeof *strings);
  if (!strings) { perror("launcher service: calloc"); return; }
  strings[0] = "jobworker-launcher";
  uint32_t i = 0;
  for (; i < argc + envc && at < end; i++) {
    const char *nul = memchr(at, '\0', (size_t)(end - at));
    if (!nul) break;
    strings[i < argc ? i + 1 : i + 2] = (char *)at;
    at = nul + 1;
  }
  int complete = i == argc + envc;
  fflush(NULL);
  pid_t pid = fork();
  if (pid == 0) {
    close(signal_fd);
    sigprocmask(SIG_SETMASK, original_mask, NULL);
    signal(SIGPIPE, SIG_DFL);
    request_id = id;
    size_t role_length = strlen(role_arg);
    memset(role_arg, 0, role_length);
    memcpy(role_arg, "job", role_length < 3 ? role_length : 3);
    environ = &strings[argc + 2];
    _exit(complete ? launch_job((int)argc + 1, strings) : launch_job(1, strings));
  }
  /* "forked" lets the caller tell a launcher that died before answering from one still busy. */
  char line[64];
  int len = pid < 0 ? snprintf(line, sizeof line, "%u error %d 0 fork -\n", id, errno)
                    : snprintf(line, sizeof line, "%u forked %d\n", id, (int)pid);
  if (write(HANDSHAKE_FD, line, (size_t)len) < 0) perror("launcher service: reply");
  free(strings);
}

/* The service: reads launch requests from fd 3 until EOF, forking one launcher per request. */
static int serve(void) {
  sigset_t child_exits, original;
  sigemptyset(&child_exits);
  sigaddset(&child_exits, SIGCHLD);
  sigprocmask(SIG_BLOCK, &child_exits, &original);
  signal(SIGPIPE, SIG_IGN); /* a caller that is gone shows as EOF, not as a signal */
  int signal_fd = signalfd(-1, &child_exits, SFD_CLOEXEC | SFD_NONBLOCK);
  if (signal_fd < 0) { perror("launcher service: signalfd"); return 1; }

  size_t length = 0, capacity = 1 << 16;
  char *buffer = malloc(capacity);
  if (!buffer) { perror("launcher service: malloc"); return 1; }
  struct pollfd fds[2] = { { .fd = HANDSHAKE_FD, .events = POLLIN }, { .fd = signal_fd, .events = POLLIN } };
  for (;;) {
    if (poll(fds, 2, -1) < 0) {
      if (errno == EINTR) continue;
      perror("launcher service: poll");
      return 1;
    }
    if (fds[1].revents & POLLIN) {
      struct signalfd_siginfo info;
      while (read(signal_fd, &info, sizeof info) > 0) {}
      reap_launchers();
    }
    if (!(fds[0].revents & (POLLIN | POLLHUP | POLLERR))) continue;
    if (length == capacity) {
      char *grown = capacity < MAX_REQUEST_BYTES + 4 ? realloc(buffer, capacity * 2) : NULL;
      if (!grown) { fprintf(stderr, "launcher service: request too large\n"); return 1; }
      buffer = grown;
      capacity *= 2;
    }
    ssize_t n = read(HANDSHAKE_FD, buffer + length, capacity - length);
    if (n == 0) return 0; /* the caller has gone: running launchers carry on without us */
    if (n < 0) {
      if (errno == EINTR || errno == EAGAIN) continue;
      perror("launcher service: read");
      return 1;
    }
    length += (size_t)n;
    for (;;) {
      uint32_t size;
      if (length < sizeof size) break;
      memcpy(&size, buffer, sizeof size);
      if (size > MAX_REQUEST_BYTES) { fprintf(stderr, "launcher service: request too large\n"); return 1; }
      if (length < sizeof size + size) break;
      start_launcher(buffer + sizeof size, size, &original, signal_fd);
      length -= sizeof size + size;
      memmove(buffer, buffer + sizeof size + size, length);
    }
  }
}

int main(int argc, char **argv) {
  if (argc == 2 && strcmp(argv[1], "--serve") == 0) {
    role_arg = argv[1];
    return serve();
  }
  fprintf(stderr, "usage: jobworker-launcher --serve\n"
                  "(started by the jobworker server, which sends it launch requests on fd 3)\n");
  return 2;
}
