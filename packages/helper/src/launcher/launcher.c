/*
 * One job's launcher, forked by the service (service.c) per request: it opens
 * the job's files, clones the init (init.c) into the job's namespaces and
 * cgroup, answers the caller, obeys the control FIFO, and writes the exit
 * record once the init is gone. It runs in its own session and outlives the
 * server.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <linux/sched.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "launcher.h"

/* The inode flag that makes a file append-only (linux/fs.h clashes with sys/mount.h). */
#define APPEND_ONLY_FLAG 0x00000020
#define GET_INODE_FLAGS _IOR('f', 1, long)
#define SET_INODE_FLAGS _IOW('f', 2, long)

uint32_t request_id; /* the caller's id for the job this launcher starts */

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
  unsigned long long uid = 0, gid = 0, rows = 24, columns = 80;
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
    else if (strcmp(flag, "--create-cgroups") == 0 && strcmp(value, "yes") == 0) o->create_cgroups = 1;
    else if (strcmp(flag, "--cgroup-write") == 0 && o->cgroup_write_count < MAX_CGROUP_WRITES &&
             value[0] == '/' && strchr(value, '\n'))
      o->cgroup_writes[o->cgroup_write_count++] = value;
    else if (strcmp(flag, "--cgroup-read") == 0 && o->cgroup_read_count < MAX_CGROUP_READS && value[0] == '/')
      o->cgroup_reads[o->cgroup_read_count++] = value;
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
    else if (strcmp(flag, "--stdin") == 0 && strcmp(value, "pipe") == 0) o->stdin_kind = STDIN_PIPE;
    else if (strcmp(flag, "--stdin") == 0 && strcmp(value, "tty") == 0) o->stdin_kind = STDIN_TTY;
    else if (strcmp(flag, "--rows") == 0) bad = parse_number(value, 1, UINT16_MAX, &rows);
    else if (strcmp(flag, "--columns") == 0) bad = parse_number(value, 1, UINT16_MAX, &columns);
    else return -1;
    if (bad) return -1;
  }
  o->uid = (uid_t)uid;
  o->gid = (gid_t)gid;
  o->rows = (unsigned short)rows;
  o->columns = (unsigned short)columns;
  if (!o->argv || !o->argv[0] || o->argv[0][0] != '/' || !o->job_dir || !o->log_path || !o->hostname ||
      !o->workdir || o->workdir[0] != '/' || !o->private_dir || o->private_dir[0] != '/' || uid == 0 ||
      gid == 0 || o->disk_bytes == 0 || o->disk_inodes == 0 || o->output_limit == 0)
    return -1;
  return 0;
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

/*
 * The exit record's reserved size, one page: its own line first, the
 * launcher's line (see below) from LAUNCH_LINE_AT, the cgroup's (see
 * record_cgroup) from CGROUP_LINE_AT.
 */
#define EXIT_RECORD_BYTES 4096
#define LAUNCH_LINE_AT 128
#define CGROUP_LINE_AT 256

/* This launcher's start time, once reserve_exit_record has read it: its reply names it too. */
static char start_time[32];

/* This process's start time: field 22 of /proc/self/stat, in clock ticks since boot ("" if unreadable). */
static void own_start_time(char *out, size_t size) {
  char stat[1024];
  out[0] = '\0';
  int fd = open("/proc/self/stat", O_RDONLY | O_CLOEXEC);
  if (fd < 0) return;
  ssize_t n = read(fd, stat, sizeof stat - 1);
  close(fd);
  if (n <= 0) return;
  stat[n] = '\0';
  /* The command name (field 2) may hold spaces and parentheses: count fields after its last ')'. */
  char *field = strrchr(stat, ')');
  for (int i = 2; field && i < 22; i++) field = strchr(field + 1, ' ');
  if (!field) return;
  size_t length = strcspn(field + 1, " ");
  if (length >= size) return;
  memcpy(out, field + 1, length);
  out[length] = '\0';
}

/*
 * Creates <job-dir>/exit.json.tmp at start, already EXIT_RECORD_BYTES long, so
 * the record can still be written when the job has filled the disk since. The
 * write itself reserves the space (delayed allocation counts it at once); an
 * fsync here would only make every job start wait for a journal commit.
 *
 * Its second line names this launcher (pid, start time) and when the job
 * started: a server that restarts after a crash finds the launcher of a job it
 * had recorded only as starting, and re-adopts the job, so the server need not
 * write a second record for each start. The exit record is written over the
 * first line only, so the launcher stays known until the record is complete.
 */
static int reserve_exit_record(const char *job_dir) {
  char tmp[4096], padding[EXIT_RECORD_BYTES];
  snprintf(tmp, sizeof tmp, "%s/exit.json.tmp", job_dir);
  memset(padding, ' ', sizeof padding);
  own_start_time(start_time, sizeof start_time);
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  char *line = padding + LAUNCH_LINE_AT;
  int length = snprintf(line, CGROUP_LINE_AT - LAUNCH_LINE_AT,
                        "{\"launcherPid\":%d,\"launcherStartTime\":\"%s\",\"startedAt\":%lld}", (int)getpid(),
                        start_time, (long long)now.tv_sec * 1000 + now.tv_nsec / 1000000);
  if (length > 0 && length < CGROUP_LINE_AT - LAUNCH_LINE_AT) line[length] = ' '; /* the rest stays padding */
  padding[LAUNCH_LINE_AT - 1] = '\n';
  padding[CGROUP_LINE_AT - 1] = '\n';
  padding[sizeof padding - 1] = '\n';
  int fd = open(tmp, O_RDWR | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
  if (fd < 0) return -1;
  if (write(fd, padding, sizeof padding) != (ssize_t)sizeof padding) {
    close(fd);
    return -1;
  }
  return fd;
}

/*
 * Writes the record over the reserved file's first line, then renames it to
 * exit.json: readers never see half of it. The launcher's line stays (readers
 * of the record take its first line), so the record also says when the job
 * started, and under which launcher.
 */
static int write_exit_record(int fd, const char *job_dir, int have_status, int status) {
  char tmp[4096], final[4096], body[EXIT_RECORD_BYTES];
  snprintf(tmp, sizeof tmp, "%s/exit.json.tmp", job_dir);
  snprintf(final, sizeof final, "%s/exit.json", job_dir);
  if (!have_status) snprintf(body, sizeof body, "{\"signal\":%d,\"statusKnown\":false}\n", SIGKILL);
  else if (WIFEXITED(status)) snprintf(body, sizeof body, "{\"exitCode\":%d}\n", WEXITSTATUS(status));
  else snprintf(body, sizeof body, "{\"signal\":%d}\n", WTERMSIG(status));
  ssize_t len = (ssize_t)strlen(body);
  int ok = pwrite(fd, body, len, 0) == len && fsync(fd) == 0;
  close(fd);
  return ok ? rename(tmp, final) : -1;
}

/* Appends `length` bytes of `text` to out[*at..cap) as the inside of a JSON string; -1 when they do not fit. */
static int append_json_string(char *out, size_t cap, size_t *at, const char *text, size_t length) {
  for (size_t i = 0; i < length; i++) {
    unsigned char c = (unsigned char)text[i];
    char escaped[8];
    int n;
    if (c == '"' || c == '\\') n = snprintf(escaped, sizeof escaped, "\\%c", c);
    else if (c == '\n') n = snprintf(escaped, sizeof escaped, "\\n");
    else if (c < 0x20) n = snprintf(escaped, sizeof escaped, "\\u%04x", c);
    else n = snprintf(escaped, sizeof escaped, "%c", c);
    if (*at + (size_t)n >= cap) return -1;
    memcpy(out + *at, escaped, (size_t)n);
    *at += (size_t)n;
  }
  return 0;
}

/* Appends a literal; -1 when it does not fit. */
static int append(char *out, size_t cap, size_t *at, const char *text) {
  size_t length = strlen(text);
  if (*at + length >= cap) return -1;
  memcpy(out + *at, text, length);
  *at += length;
  return 0;
}

/*
 * Once the job is gone: reads the files of its cgroup the server asked for
 * (--cgroup-read: its usage, its OOM kills) into the exit record, at
 * CGROUP_LINE_AT, then removes the v1 directories of the cgroup this launcher
 * created, so the server's end of a job reads one file and removes one
 * directory at most. The unified one stays for the server: it may be watching
 * its cgroup.events (a stop), and a removal can beat the kernel's deferred
 * notice of the cgroup emptying, which then never comes. When a file cannot
 * be read, or they do not fit, no line is written and nothing is removed: the
 * server then reads and removes it all, as for a launcher that died.
 */
static void record_cgroup(int record_fd, const struct options *o) {
  if (!o->create_cgroups) return;
  char line[EXIT_RECORD_BYTES - CGROUP_LINE_AT - 1], content[1024];
  size_t at = 0;
  if (append(line, sizeof line, &at, "{\"cgroupFiles\":{") < 0) return;
  for (int i = 0; i < o->cgroup_read_count; i++) {
    int fd = open(o->cgroup_reads[i], O_RDONLY | O_CLOEXEC);
    if (fd < 0) return;
    ssize_t n = read(fd, content, sizeof content);
    close(fd);
    if (n < 0 || n == (ssize_t)sizeof content) return;
    if ((i > 0 && append(line, sizeof line, &at, ",") < 0) || append(line, sizeof line, &at, "\"") < 0 ||
        append_json_string(line, sizeof line, &at, o->cgroup_reads[i], strlen(o->cgroup_reads[i])) < 0 ||
        append(line, sizeof line, &at, "\":\"") < 0 ||
        append_json_string(line, sizeof line, &at, content, (size_t)n) < 0 || append(line, sizeof line, &at, "\"") < 0)
      return;
  }
  /* Every process of the job is gone (its PID namespace died with the init): the directories can go. */
  int removed = 1;
  for (int i = 0; i < o->cgroup1_count; i++)
    if (rmdir(o->cgroup1[i]) < 0 && errno != ENOENT) removed = 0;
  if (append(line, sizeof line, &at, removed ? "},\"v1Removed\":true}\n" : "},\"v1Removed\":false}\n") < 0) return;
  if (pwrite(record_fd, line, at, CGROUP_LINE_AT) != (ssize_t)at) perror("launcher: recording the cgroup");
}

/*
 * Removes launcher.log when nothing was written to it (a job that went well):
 * an ended job's folder then holds its output and records only, and the server
 * has a file fewer to delete when the job goes.
 */
static void remove_empty_diagnostics(const char *job_dir) {
  struct stat diagnostics;
  if (fstat(2, &diagnostics) < 0 || !S_ISREG(diagnostics.st_mode) || diagnostics.st_size != 0) return;
  char path[4096];
  snprintf(path, sizeof path, "%s/launcher.log", job_dir);
  unlink(path);
}

/*
 * Serves the job (attach.c) until the init exits, then makes the output an
 * ordinary file again (no process of the job is left to write it) and writes
 * the exit record.
 */
static void supervise(struct job_io *io, int status_fd, int record_fd, const struct options *o) {
  const char *job_dir = o->job_dir;
  serve_job(io);
  char path[4096];
  snprintf(path, sizeof path, "%s/attach.sock", job_dir);
  unlink(path); /* nothing listens any more: a connect now fails at once */
  snprintf(path, sizeof path, "%s/control", job_dir);
  unlink(path); /* nor reads: a stop now finds no FIFO (ENOENT), as it would find no reader */
  siginfo_t info;
  if (waitid(P_PIDFD, io->pidfd, &info, WEXITED) < 0) perror("launcher: waitid");
  int32_t status = 0;
  int have_status = read(status_fd, &status, sizeof status) == sizeof status;
  if (set_append_only(io->log_fd, 0) < 0) perror("launcher: clearing the output's append-only flag");
  record_cgroup(record_fd, o);
  if (write_exit_record(record_fd, job_dir, have_status, status) < 0) {
    perror("launcher: writing exit record");
    exit(1);
  }
  remove_empty_diagnostics(job_dir);
}

/* Receives the terminal's leader side, which the init opened in the job's devpts; -1 if none came. */
static int receive_terminal(int socket_fd) {
  char byte;
  char control[CMSG_SPACE(sizeof(int))];
  struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
  struct msghdr message = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
  ssize_t n;
  while ((n = recvmsg(socket_fd, &message, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {}
  struct cmsghdr *header = n == 1 ? CMSG_FIRSTHDR(&message) : NULL;
  if (!header || header->cmsg_level != SOL_SOCKET || header->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(header), sizeof fd);
  return fd;
}

/* Answers the caller's request, in one write so lines of concurrent launchers never interleave. */
static void reply(const char *line, int length) {
  if (write(HANDSHAKE_FD, line, (size_t)length) < 0) perror("launcher: handshake");
  close(HANDSHAKE_FD);
}

static void reply_started(long init) {
  char line[128];
  reply(line, snprintf(line, sizeof line, "%u started %ld %d %s\n", request_id, init, (int)getpid(), start_time));
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
  describe_call(what, sizeof what, call, path);
  reply_error(err, what);
  return 1;
}

/*
 * Creates the job's cgroup directories and writes its limits into them,
 * before its init is cloned in. The job's launcher does this rather than the
 * server: it is the job's own set-up, a mkdir in cgroupfs (one per v1
 * hierarchy) costs the kernel more than most of a start, and here it runs
 * beside the server instead of on its one event loop. On failure, what was
 * created is removed again and *failed names the path.
 */
static int create_cgroups(const struct options *o, const char **failed) {
  static char path[4096];
  const char *dirs[MAX_V1_CGROUPS + 1];
  int count = 0, made = 0;
  for (int i = 0; i < o->cgroup1_count; i++) dirs[count++] = o->cgroup1[i];
  if (o->cgroup2) dirs[count++] = o->cgroup2;
  for (; made < count; made++) {
    if (mkdir(dirs[made], 0755) < 0) {
      *failed = dirs[made];
      goto undo;
    }
  }
  for (int i = 0; i < o->cgroup_write_count; i++) {
    const char *file = o->cgroup_writes[i], *value = strchr(file, '\n') + 1;
    snprintf(path, sizeof path, "%.*s", (int)(value - 1 - file), file);
    *failed = path;
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    if (fd < 0) goto undo;
    ssize_t length = (ssize_t)strlen(value), written = write(fd, value, (size_t)length);
    int err = errno;
    close(fd);
    if (written != length) {
      errno = written < 0 ? err : EIO;
      goto undo;
    }
  }
  return 0;
undo:;
  int err = errno;
  while (made-- > 0) rmdir(dirs[made]);
  errno = err;
  return -1;
}

/* One job, in a process forked by the service: set up, clone the init, report, supervise. */
int launch_job(int argc, char **argv) {
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

  int failure_pipe[2], status_pipe[2], stdin_pipe[2] = { -1, -1 }, tty_socket[2] = { -1, -1 };
  int control_fd, listen_fd, log_fd, record_fd, cgroup_fd = -1;
  if (pipe2(failure_pipe, O_CLOEXEC) < 0 || pipe2(status_pipe, O_CLOEXEC) < 0) return refuse("pipe2", "-");
  if (o.stdin_kind == STDIN_PIPE && pipe2(stdin_pipe, O_CLOEXEC) < 0) return refuse("pipe2", "stdin");
  if (o.stdin_kind == STDIN_TTY && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, tty_socket) < 0)
    return refuse("socketpair", "-");
  snprintf(path, sizeof path, "%s/control", o.job_dir);
  if (mkfifo(path, 0600) < 0 && errno != EEXIST) return refuse("mkfifo", path);
  if ((control_fd = open(path, O_RDWR | O_NONBLOCK | O_CLOEXEC)) < 0) return refuse("open", path);
  if ((listen_fd = open_attach_socket(o.job_dir)) < 0) return refuse("bind", "attach.sock");
  if ((record_fd = reserve_exit_record(o.job_dir)) < 0) return refuse("reserve", "exit.json.tmp");
  const char *failed_cgroup = "-";
  if (o.create_cgroups && create_cgroups(&o, &failed_cgroup) < 0) return refuse("cgroup", failed_cgroup);
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
    struct init_fds fds = { failure_pipe[1], log_fd, status_pipe[1], stdin_pipe[0], tty_socket[1] };
    run_init(&o, &fds);
  }
  if (init < 0) {
    int err = errno;
    set_append_only(log_fd, 0);
    errno = err;
    return refuse("clone3", "-");
  }
  close(failure_pipe[1]);
  close(status_pipe[1]);
  if (stdin_pipe[0] >= 0) close(stdin_pipe[0]);
  if (tty_socket[1] >= 0) close(tty_socket[1]);
  /* Ignored only here, after the clone: an ignored signal would stay ignored across the job's exec. */
  signal(SIGPIPE, SIG_IGN);

  /* The failure pipe closes unread when the job's exec succeeds: that is "started". */
  struct failure f;
  ssize_t n;
  while ((n = read(failure_pipe[0], &f, sizeof f)) < 0 && errno == EINTR) {}
  int started = n != sizeof f;
  /* The init sent the terminal before it forked the job, so it is there by now. */
  int tty_fd = started && tty_socket[0] >= 0 ? receive_terminal(tty_socket[0]) : -1;
  if (tty_socket[0] >= 0) close(tty_socket[0]);
  if (started && o.stdin_kind == STDIN_TTY && tty_fd < 0) {
    /* Cannot happen unless the init died between the two; the job is unusable without it. */
    syscall(SYS_pidfd_send_signal, pidfd, SIGKILL, NULL, 0);
    f = (struct failure){ .err = EPROTO };
    describe_call(f.what, sizeof f.what, "recvmsg", "terminal");
    started = 0;
  }
  if (!started) {
    f.what[sizeof f.what - 1] = '\0';
    reply_error(f.err, f.what);
  } else {
    reply_started(init);
  }
  close(failure_pipe[0]);

  struct job_io io = {
    .options = &o,
    .pidfd = pidfd,
    .init_pid = (pid_t)init,
    .control_fd = control_fd,
    .listen_fd = listen_fd,
    .input_fd = tty_fd >= 0 ? tty_fd : stdin_pipe[1],
    .tty_fd = tty_fd,
    .log_fd = log_fd,
    .output_limit = o.output_limit,
  };
  supervise(&io, status_pipe[0], record_fd, &o);
  return 0;
}

