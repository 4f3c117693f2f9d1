/*
 * jobworker-launcher: puts jobs into their namespaces and cgroups, then execs them.
 *
 * Process tree (pids as seen from the host):
 *
 *   service            "--serve": one per server; forks a launcher per request
 *     `- launcher      one per job, own session; owns the init's pidfd; writes the exit record
 *          `- init     PID 1 of the new PID namespace; reaps, forwards signals
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
 *             "<id> error <stage> <errno> <launcher-pid>" from the launcher, and
 *             "exited <launcher-pid> <status>" once the service has reaped it
 *   EOF       the caller is gone: the service exits; launchers and jobs run on
 *   <job-dir>/control      FIFO; the words "term" and "kill" ask for a stop
 *   <job-dir>/exit.json    written atomically once the init has been reaped
 *   <job-dir>/launcher.log the launcher's own diagnostics
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/audit.h>
#include <linux/filter.h>
#include <linux/sched.h>
#include <linux/seccomp.h>
#include <net/if.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <grp.h>
#include <unistd.h>

#define MAX_V1_CGROUPS 16
#define JOB_MAX_FDS 4096 /* the job's RLIMIT_NOFILE: the server's own limit is far higher */
#define HANDSHAKE_FD 3 /* the service's socket to the caller */
#define MAX_REQUEST_BYTES (64u << 20)

/* Setup stages, reported with errno when one fails. launcher.ts names them. */
enum stage {
  STAGE_ARGS = 1, STAGE_FILES, STAGE_CLONE, STAGE_CGROUP_V1, STAGE_CGROUPNS,
  STAGE_MOUNT, STAGE_HOSTNAME, STAGE_LOOPBACK, STAGE_FORK, STAGE_CREDENTIALS,
  STAGE_SECCOMP, STAGE_EXEC,
};

struct options {
  const char *job_dir, *log_path, *hostname, *workdir, *private_dir, *hide_dir;
  const char *cgroup2, *cgroup1[MAX_V1_CGROUPS];
  int cgroup1_count;
  uid_t uid;
  gid_t gid;
  unsigned long tmp_size;
  char **argv;
};

struct failure { int32_t stage, err; };

static int failure_fd = -1; /* close-on-exec pipe: setup and exec failures */
static uint32_t request_id;  /* the caller's id for the job this launcher starts */
static char *role_arg;       /* the service's argv[1]: relabelled "job" in each launcher, for ps */

/* Reports a failed setup stage to the outer launcher and ends this process. */
static void fail(enum stage stage) {
  struct failure f = { stage, errno };
  if (write(failure_fd, &f, sizeof f) < 0) _exit(126);
  _exit(127);
}

#define CHECK(call, stage) do { if ((call) < 0) fail(stage); } while (0)

static int parse_options(int argc, char **argv, struct options *o) {
  memset(o, 0, sizeof *o);
  o->tmp_size = 64UL << 20;
  for (int i = 1; i < argc; i++) {
    const char *flag = argv[i], *value = i + 1 < argc ? argv[i + 1] : NULL;
    if (strcmp(flag, "--") == 0) { o->argv = &argv[i + 1]; break; }
    if (value == NULL) return -1;
    i++;
    if (strcmp(flag, "--job-dir") == 0) o->job_dir = value;
    else if (strcmp(flag, "--log") == 0) o->log_path = value;
    else if (strcmp(flag, "--hostname") == 0) o->hostname = value;
    else if (strcmp(flag, "--workdir") == 0) o->workdir = value;
    else if (strcmp(flag, "--private-dir") == 0) o->private_dir = value;
    else if (strcmp(flag, "--hide") == 0) o->hide_dir = value;
    else if (strcmp(flag, "--cgroup2") == 0) o->cgroup2 = value;
    else if (strcmp(flag, "--cgroup1") == 0 && o->cgroup1_count < MAX_V1_CGROUPS)
      o->cgroup1[o->cgroup1_count++] = value;
    else if (strcmp(flag, "--uid") == 0) o->uid = (uid_t)strtoul(value, NULL, 10);
    else if (strcmp(flag, "--gid") == 0) o->gid = (gid_t)strtoul(value, NULL, 10);
    else if (strcmp(flag, "--tmp-size") == 0) o->tmp_size = strtoul(value, NULL, 10);
    else return -1;
  }
  if (!o->argv || !o->argv[0] || o->argv[0][0] != '/' || !o->job_dir || !o->log_path ||
      !o->hostname || !o->workdir || o->uid == 0 || o->gid == 0)
    return -1;
  return 0;
}

/* Default seccomp deny list: syscalls a job never needs that widen the kernel's attack surface. */
static int install_seccomp(void) {
#define DENY(nr) BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, (nr), 0, 1), \
                 BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM)
  struct sock_filter filter[] = {
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, arch)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_KILL_PROCESS),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, nr)),
    /* x32 syscalls alias the x86_64 ones with a high bit: refuse them all. */
    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, 0x40000000, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    /* clone3 passes flags in memory the filter cannot read; ENOSYS makes libc fall back to clone. */
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone3, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | ENOSYS),
    /* clone: refuse any namespace flag (CLONE_NEWUSER above all); other syscalls skip ahead. */
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, SYS_clone, 0, 4),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(struct seccomp_data, args[0])),
    BPF_JUMP(BPF_JMP | BPF_JSET | BPF_K, CLONE_NEWNS | CLONE_NEWUSER | CLONE_NEWPID |
             CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWCGROUP, 0, 1),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ERRNO | EPERM),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    DENY(SYS_unshare), DENY(SYS_setns), DENY(SYS_mount), DENY(SYS_umount2),
    DENY(SYS_pivot_root), DENY(SYS_open_tree), DENY(SYS_move_mount), DENY(SYS_fsopen),
    DENY(SYS_fsconfig), DENY(SYS_fsmount), DENY(SYS_fspick), DENY(SYS_mount_setattr),
    DENY(SYS_keyctl), DENY(SYS_add_key), DENY(SYS_request_key), DENY(SYS_bpf),
    DENY(SYS_perf_event_open), DENY(SYS_init_module), DENY(SYS_finit_module),
    DENY(SYS_delete_module), DENY(SYS_kexec_load), DENY(SYS_kexec_file_load),
    DENY(SYS_reboot), DENY(SYS_swapon), DENY(SYS_swapoff), DENY(SYS_ptrace),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
  };
#undef DENY
  struct sock_fprog prog = { .len = sizeof filter / sizeof filter[0], .filter = filter };
  return prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &prog);
}

/* Makes the host read-only, hides the state dir, and mounts the job's own /tmp, /proc, /sys. */
static void setup_mounts(const struct options *o) {
  struct mount_attr private_ro = { .attr_set = MOUNT_ATTR_RDONLY, .propagation = MS_PRIVATE };
  int private_fd = -1;
  if (o->private_dir)
    CHECK(private_fd = open_tree(AT_FDCWD, o->private_dir, OPEN_TREE_CLONE | OPEN_TREE_CLOEXEC),
          STAGE_MOUNT);
  CHECK(mount_setattr(AT_FDCWD, "/", AT_RECURSIVE, &private_ro, sizeof private_ro), STAGE_MOUNT);
  if (o->hide_dir) {
    struct mount_attr ro = { .attr_set = MOUNT_ATTR_RDONLY };
    CHECK(mount("jobworker", o->hide_dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC,
                "mode=0755,size=64k"), STAGE_MOUNT);
    if (private_fd >= 0) {
      char path[4096];
      /* The private dir keeps its host path: recreate the directories leading to it. */
      for (size_t i = strlen(o->hide_dir) + 1; i <= strlen(o->private_dir); i++) {
        if (o->private_dir[i] != '/' && o->private_dir[i] != '\0') continue;
        snprintf(path, sizeof path, "%.*s", (int)i, o->private_dir);
        if (mkdir(path, 0755) < 0 && errno != EEXIST) fail(STAGE_MOUNT);
      }
      CHECK(move_mount(private_fd, "", AT_FDCWD, o->private_dir, MOVE_MOUNT_F_EMPTY_PATH),
            STAGE_MOUNT);
    }
    CHECK(mount_setattr(AT_FDCWD, o->hide_dir, 0, &ro, sizeof ro), STAGE_MOUNT);
  }
  char tmp_options[64];
  snprintf(tmp_options, sizeof tmp_options, "mode=1777,size=%lu", o->tmp_size);
  CHECK(mount("tmpfs", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, tmp_options), STAGE_MOUNT);
  CHECK(mount("proc", "/proc", "proc", MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL), STAGE_MOUNT);
  unsigned long sys_flags = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  CHECK(mount("sysfs", "/sys", "sysfs", sys_flags, NULL), STAGE_MOUNT);
  /* In the cgroup namespace, a fresh cgroup2 mount shows only the job's own cgroup. */
  CHECK(mount("cgroup2", "/sys/fs/cgroup", "cgroup2", sys_flags, NULL), STAGE_MOUNT);
}

static void bring_up_loopback(void) {
  struct ifreq ifr = { 0 };
  int sock = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
  CHECK(sock, STAGE_LOOPBACK);
  strcpy(ifr.ifr_name, "lo");
  CHECK(ioctl(sock, SIOCGIFFLAGS, &ifr), STAGE_LOOPBACK);
  ifr.ifr_flags |= IFF_UP | IFF_RUNNING;
  CHECK(ioctl(sock, SIOCSIFFLAGS, &ifr), STAGE_LOOPBACK);
  close(sock);
}

/* Runs in the job's main process: drop every privilege, then exec the user's program. */
static void exec_job(const struct options *o, int log_fd, const sigset_t *original_mask) {
  CHECK(sigprocmask(SIG_SETMASK, original_mask, NULL), STAGE_CREDENTIALS);
  int null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
  CHECK(null_fd, STAGE_FILES);
  CHECK(dup2(null_fd, 0), STAGE_FILES);
  CHECK(dup2(log_fd, 1), STAGE_FILES);
  CHECK(dup2(log_fd, 2), STAGE_FILES);
  CHECK(chdir(o->workdir), STAGE_FILES);
  struct rlimit fds = { JOB_MAX_FDS, JOB_MAX_FDS };
  CHECK(setrlimit(RLIMIT_NOFILE, &fds), STAGE_CREDENTIALS);
  for (int cap = 0; prctl(PR_CAPBSET_READ, cap) >= 0; cap++)
    CHECK(prctl(PR_CAPBSET_DROP, cap), STAGE_CREDENTIALS);
  CHECK(setgroups(0, NULL), STAGE_CREDENTIALS);
  CHECK(setresgid(o->gid, o->gid, o->gid), STAGE_CREDENTIALS);
  CHECK(setresuid(o->uid, o->uid, o->uid), STAGE_CREDENTIALS);
  CHECK(prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0), STAGE_CREDENTIALS);
  /* Everything but 0-2 and the close-on-exec failure pipe goes before the user's code runs. */
  CHECK(close_range(3, ~0U, CLOSE_RANGE_CLOEXEC), STAGE_FILES);
  CHECK(install_seccomp(), STAGE_SECCOMP);
  execve(o->argv[0], o->argv, environ);
  fail(STAGE_EXEC);
}

/* PID 1 of the job's namespace. Returns the main process's wait status through status_fd. */
static void run_init(const struct options *o, int log_fd, int status_fd) {
  /* If the outer launcher dies, so does the job: nobody would be left to record its end. */
  CHECK(prctl(PR_SET_PDEATHSIG, SIGKILL), STAGE_FORK);
  close(HANDSHAKE_FD);
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
    CHECK(fd, STAGE_CGROUP_V1);
    CHECK(write(fd, "0", 1), STAGE_CGROUP_V1);
    close(fd);
  }
  CHECK(unshare(CLONE_NEWCGROUP), STAGE_CGROUPNS);
  setup_mounts(o);
  CHECK(sethostname(o->hostname, strlen(o->hostname)), STAGE_HOSTNAME);
  bring_up_loopback();

  /* Block the signals we handle so none is lost between fork and sigwaitinfo. */
  sigset_t handled, original;
  int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
  sigemptyset(&handled);
  sigaddset(&handled, SIGCHLD);
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) sigaddset(&handled, forwarded[i]);
  CHECK(sigprocmask(SIG_BLOCK, &handled, &original), STAGE_FORK);

  pid_t job = fork();
  CHECK(job, STAGE_FORK);
  if (job == 0) exec_job(o, log_fd, &original);
  close(failure_fd);
  close(log_fd);

  for (;;) {
    siginfo_t info;
    if (sigwaitinfo(&handled, &info) < 0) continue;
    if (info.si_signo != SIGCHLD) { kill(job, info.si_signo); continue; }
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

/* Obeys "term" and "kill" on the control FIFO until the init exits; returns its report. */
static void supervise(int pidfd, int control_fd, int status_fd, int record_fd, const char *job_dir) {
  struct pollfd fds[2] = { { .fd = pidfd, .events = POLLIN }, { .fd = control_fd, .events = POLLIN } };
  while (!(fds[0].revents & POLLIN)) {
    if (poll(fds, 2, -1) < 0) { if (errno == EINTR) continue; perror("launcher: poll"); break; }
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
  if (write_exit_record(record_fd, job_dir, have_status, status) < 0) {
    perror("launcher: writing exit record");
    exit(1);
  }
}

/* Answers the caller's request, in one write so lines of concurrent launchers never interleave. */
static void handshake(const char *outcome) {
  char line[160];
  int len = snprintf(line, sizeof line, "%u %s %d\n", request_id, outcome, (int)getpid());
  if (write(HANDSHAKE_FD, line, (size_t)len) < 0) perror("launcher: handshake");
  close(HANDSHAKE_FD);
}

/* One job, in a process forked by the service: set up, clone the init, report, supervise. */
static int launch_job(int argc, char **argv) {
  struct options o;
  char line[128];
  if (parse_options(argc, argv, &o) < 0) {
    snprintf(line, sizeof line, "error %d %d", STAGE_ARGS, EINVAL);
    handshake(line);
    return 2;
  }
  /* Diagnostics go to the job dir: the launcher outlives the server and its stderr. */
  char log_path[4096];
  snprintf(log_path, sizeof log_path, "%s/launcher.log", o.job_dir);
  int diagnostics = open(log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600);
  if (diagnostics < 0) diagnostics = open("/dev/null", O_WRONLY | O_CLOEXEC);
  if (diagnostics >= 0) {
    dup2(diagnostics, 2);
    close(diagnostics);
  }
  /* Own session: the job outlives the server, and no terminal signal reaches it from there. */
  setsid();

  char control_path[4096];
  snprintf(control_path, sizeof control_path, "%s/control", o.job_dir);
  int failure_pipe[2], status_pipe[2], control_fd, log_fd, record_fd, cgroup_fd = -1;
  if (pipe2(failure_pipe, O_CLOEXEC) < 0 || pipe2(status_pipe, O_CLOEXEC) < 0 ||
      (mkfifo(control_path, 0600) < 0 && errno != EEXIST) ||
      (control_fd = open(control_path, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0 ||
      (log_fd = open(o.log_path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC, 0600)) < 0 ||
      (record_fd = reserve_exit_record(o.job_dir)) < 0 ||
      (o.cgroup2 && (cgroup_fd = open(o.cgroup2, O_RDONLY | O_DIRECTORY | O_CLOEXEC)) < 0)) {
    snprintf(line, sizeof line, "error %d %d", STAGE_FILES, errno);
    handshake(line);
    return 1;
  }

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
    close(failure_pipe[0]);
    close(status_pipe[0]);
    run_init(&o, log_fd, status_pipe[1]);
  }
  if (init < 0) {
    snprintf(line, sizeof line, "error %d %d", STAGE_CLONE, errno);
    handshake(line);
    return 1;
  }
  close(failure_pipe[1]);
  close(status_pipe[1]);
  close(log_fd);
  /* Ignored only here, after the clone: an ignored signal would stay ignored across the job's exec. */
  signal(SIGPIPE, SIG_IGN);

  /* The failure pipe closes unread when the job's exec succeeds: that is "started". */
  struct failure f;
  ssize_t n;
  while ((n = read(failure_pipe[0], &f, sizeof f)) < 0 && errno == EINTR) {}
  if (n == sizeof f) snprintf(line, sizeof line, "error %d %d", f.stage, f.err);
  else snprintf(line, sizeof line, "started %ld", init);
  handshake(line);
  close(failure_pipe[0]);

  supervise(pidfd, control_fd, status_pipe[0], record_fd, o.job_dir);
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
  int len = pid < 0 ? snprintf(line, sizeof line, "%u error %d %d 0\n", id, STAGE_FORK, errno)
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
