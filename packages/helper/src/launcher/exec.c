/*
 * Exec: another process in a running job. The launcher forks this server per
 * ATTACH_EXEC message and hands it the connection; it runs the process and
 * relays its stdio over that connection until it ends.
 *
 * Process tree:
 *   exec server   root, outside the job: relays stdio, reports the end
 *    `- keeper    joins the job's cgroups, setns()es into its namespaces through
 *        |        the init's pidfd, drops to the job's uid and seccomp filter
 *        |        exactly as the init does, forwards signals, reports the wait status
 *        `- process  in the job's PID namespace (a setns'd PID namespace
 *                 applies to children only), in its working directory, exec'd
 *
 * Request payload: u8 tty, u16 rows, u16 columns, u32 argc, u32 envc, then
 * NUL-terminated strings: argv (argv[0] is looked up in the env's PATH), env.
 * Then, from the client: ATTACH_INPUT, ATTACH_CLOSE_STDIN, ATTACH_RESIZE,
 * ATTACH_SIGNAL as for the job (attach.c). To the client: EXEC_STDOUT and
 * EXEC_STDERR (bytes; a terminal's output is all EXEC_STDOUT), then EXEC_EXIT
 * (i32 wait status) or EXEC_FAILED (i32 errno, "call path"), and the
 * connection closes. A client that goes away kills the process.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <sched.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "launcher.h"

#define MAX_EXEC_STRINGS 4096

enum { EXEC_STDOUT = 16, EXEC_STDERR = 17, EXEC_EXIT = 18, EXEC_FAILED = 19 };

/* What the keeper tells the exec server: the process's wait status, or why it could not run. */
struct exec_report {
  int32_t failed;
  int32_t status;
  struct failure failure;
};

static int connection_fd;

/* Writes all of a frame to the (blocking) connection; the client is gone if it fails. */
static void send_frame(uint8_t type, const void *payload, uint32_t size) {
  char header[5];
  uint32_t length = size + 1;
  memcpy(header, &length, 4);
  header[4] = (char)type;
  struct iovec parts[2] = { { header, 5 }, { (void *)payload, size } };
  struct msghdr message = { .msg_iov = parts, .msg_iovlen = 2 };
  size_t left = 5 + (size_t)size;
  while (left > 0) {
    ssize_t n = sendmsg(connection_fd, &message, MSG_NOSIGNAL);
    if (n < 0 && errno == EINTR) continue;
    if (n <= 0) _exit(0); /* the client went away: the keeper dies with us (PR_SET_PDEATHSIG) */
    left -= (size_t)n;
    while (n > 0 && message.msg_iovlen > 0) {
      size_t taken = (size_t)n < message.msg_iov->iov_len ? (size_t)n : message.msg_iov->iov_len;
      message.msg_iov->iov_base = (char *)message.msg_iov->iov_base + taken;
      message.msg_iov->iov_len -= taken;
      n -= (ssize_t)taken;
      if (message.msg_iov->iov_len == 0) {
        message.msg_iov++;
        message.msg_iovlen--;
      }
    }
  }
}

static _Noreturn void refuse_exec(const char *call, const char *path) {
  struct { int32_t err; char what[WHAT_BYTES]; } body = { .err = errno };
  describe_call(body.what, sizeof body.what, call, path);
  send_frame(EXEC_FAILED, &body, (uint32_t)(4 + strlen(body.what)));
  _exit(0);
}

/*
 * Joins the job's cgroups (from the host's view, before the setns), its
 * namespaces, and its root: entering a mount namespace does not reliably put
 * the caller at the root the init pivoted to (kernels differ), so the keeper
 * takes the init's root itself, as nsenter --root does.
 */
static void enter_job(const struct options *o, int init_pidfd, pid_t init_pid) {
  char path[4096];
  snprintf(path, sizeof path, "/proc/%d/root", (int)init_pid);
  int root = open(path, O_PATH | O_DIRECTORY | O_CLOEXEC);
  CHECK(root, "open", path);
  if (o->cgroup2) {
    snprintf(path, sizeof path, "%s/cgroup.procs", o->cgroup2);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    CHECK(fd, "open", path);
    CHECK(write(fd, "0", 1), "write", path);
    close(fd);
  }
  for (int i = 0; i < o->cgroup1_count; i++) {
    snprintf(path, sizeof path, "%s/tasks", o->cgroup1[i]);
    int fd = open(path, O_WRONLY | O_CLOEXEC);
    CHECK(fd, "open", path);
    CHECK(write(fd, "0", 1), "write", path);
    close(fd);
  }
  CHECK(setns(init_pidfd, CLONE_NEWNS | CLONE_NEWNET | CLONE_NEWIPC | CLONE_NEWUTS | CLONE_NEWPID | CLONE_NEWCGROUP),
        "setns", "job");
  CHECK(fchdir(root), "fchdir", "the job's root");
  CHECK(chroot("."), "chroot", "the job's root");
  CHECK(chdir("/"), "chdir", "/");
  close(root);
}

/* The keeper: enters the job, drops privileges, forks the process, forwards signals, reports. */
static _Noreturn void keep(const struct options *o, int init_pidfd, pid_t init_pid, char **argv, char **envp,
                           int tty_socket, const int stdio[3], int report_fd) {
  int failure_pipe[2];
  if (pipe2(failure_pipe, O_CLOEXEC) < 0) _exit(126);
  report_failures_to(failure_pipe[1]);
  CHECK(prctl(PR_SET_PDEATHSIG, SIGKILL), "prctl(PR_SET_PDEATHSIG)", "-");
  enter_job(o, init_pidfd, init_pid);
  int terminal = tty_socket >= 0 ? open_terminal(o, tty_socket) : -1;
  drop_privileges(o);

  sigset_t handled, original;
  int forwarded[] = { SIGTERM, SIGINT, SIGHUP, SIGQUIT, SIGUSR1, SIGUSR2 };
  sigemptyset(&handled);
  sigaddset(&handled, SIGCHLD);
  sigaddset(&handled, SIGNAL_CARRIER);
  for (size_t i = 0; i < sizeof forwarded / sizeof forwarded[0]; i++) sigaddset(&handled, forwarded[i]);
  CHECK(sigprocmask(SIG_BLOCK, &handled, &original), "sigprocmask", "-");

  pid_t process = fork();
  CHECK(process, "fork", "-");
  if (process == 0) {
    CHECK(sigprocmask(SIG_SETMASK, &original, NULL), "sigprocmask", "-");
    CHECK(setsid(), "setsid", "-");
    if (terminal >= 0) {
      CHECK(ioctl(terminal, TIOCSCTTY, 0), "ioctl(TIOCSCTTY)", "terminal");
      for (int fd = 0; fd <= 2; fd++) CHECK(dup2(terminal, fd), "dup2", "terminal");
    } else {
      for (int fd = 0; fd <= 2; fd++) CHECK(dup2(stdio[fd], fd), "dup2", "stdio");
    }
    CHECK(chdir(o->workdir), "chdir", o->workdir);
    CHECK(close_range(3, ~0U, CLOSE_RANGE_CLOEXEC), "close_range", "-");
    environ = envp;
    execvp(argv[0], argv);
    fail("execve", argv[0]);
  }
  close(failure_pipe[1]);
  if (terminal >= 0) close(terminal);
  for (int fd = 0; fd <= 2; fd++)
    if (stdio[fd] >= 0) close(stdio[fd]);

  struct exec_report report = { 0 };
  ssize_t n;
  while ((n = read(failure_pipe[0], &report.failure, sizeof report.failure)) < 0 && errno == EINTR) {}
  if (n == sizeof report.failure) {
    report.failed = 1;
    waitpid(process, NULL, 0);
    if (write(report_fd, &report, sizeof report) < 0) _exit(126);
    _exit(0);
  }
  for (;;) {
    siginfo_t info;
    if (sigwaitinfo(&handled, &info) < 0) continue;
    if (info.si_signo == SIGNAL_CARRIER) {
      int sig = info.si_value.sival_int;
      if (info.si_code == SI_QUEUE && sig > 0 && sig < NSIG) kill(process, sig);
      continue;
    }
    if (info.si_signo != SIGCHLD) {
      kill(process, info.si_signo);
      continue;
    }
    int status;
    if (waitpid(process, &status, WNOHANG) == process) {
      report.status = status;
      if (write(report_fd, &report, sizeof report) < 0) _exit(126);
      _exit(0);
    }
  }
}

/* Sends a signal to the keeper for its process, as the launcher does for the job's init. */
static void signal_process(int keeper_pidfd, int sig) {
  (void)send_carrier_signal(keeper_pidfd, sig); /* a keeper already gone has nothing left to signal */
}

/* Receives the terminal's leader side from the keeper; -1 if none came (the keeper failed first). */
static int receive_fd(int socket_fd) {
  char byte, control[CMSG_SPACE(sizeof(int))];
  struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
  struct msghdr message = { .msg_iov = &iov, .msg_iovlen = 1, .msg_control = control, .msg_controllen = sizeof control };
  ssize_t n;
  while ((n = recvmsg(socket_fd, &message, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {}
  struct cmsghdr *header = n == 1 ? CMSG_FIRSTHDR(&message) : NULL;
  if (!header || header->cmsg_type != SCM_RIGHTS) return -1;
  int fd;
  memcpy(&fd, CMSG_DATA(header), sizeof fd);
  return fd;
}

static uint32_t take_u32(const char **at) {
  uint32_t value;
  memcpy(&value, *at, 4);
  *at += 4;
  return value;
}

/* Reads what is there of one output (non-blocking) and sends it: 1 when it sent some, 0 when none was there, -1 at its end. */
static int relay_output(int fd, uint8_t type) {
  char chunk[MAX_MESSAGE_BYTES];
  ssize_t n = read(fd, chunk, sizeof chunk);
  if (n < 0 && (errno == EAGAIN || errno == EINTR)) return 0;
  if (n <= 0) return -1; /* EOF, or EIO once a terminal has no follower left */
  send_frame(type, chunk, (uint32_t)n);
  return 1;
}

static char pending[MAX_MESSAGE_BYTES]; /* input the process has not taken yet */

/* One message from the client (types as in attach.c); input is copied to `pending`. */
static void handle_exec_message(int *input, int terminal, int keeper_pidfd, uint8_t type, const char *payload,
                                uint32_t size, size_t *pending_to) {
  if (type == 1 && *input >= 0) {
    memcpy(pending, payload, size);
    *pending_to = size;
  } else if (type == 2 && terminal >= 0) {
    struct termios modes;
    char eof = tcgetattr(terminal, &modes) == 0 ? (char)modes.c_cc[VEOF] : 4;
    if (write(terminal, &eof, 1) < 0) perror("exec: writing EOF to the terminal");
  } else if (type == 2 && *input >= 0) {
    close(*input);
    *input = -1;
  } else if (type == 3 && size == 4 && terminal >= 0) {
    uint16_t cells[2];
    memcpy(cells, payload, 4);
    struct winsize window = { .ws_row = cells[0], .ws_col = cells[1] };
    if (ioctl(terminal, TIOCSWINSZ, &window) < 0) perror("exec: TIOCSWINSZ");
  } else if (type == 4 && size == 4) {
    int32_t sig;
    memcpy(&sig, payload, 4);
    signal_process(keeper_pidfd, sig);
  }
}

_Noreturn void serve_exec(const struct options *job, int init_pidfd, pid_t init_pid, int connection, const char *spec,
                          size_t size, const char *rest, size_t rest_size) {
  connection_fd = connection;
  fcntl(connection, F_SETFL, fcntl(connection, F_GETFL) & ~O_NONBLOCK);
  struct options o = *job;
  const char *at = spec, *end = spec + size;
  if (size < 13) {
    errno = EINVAL;
    refuse_exec("parse", "exec request");
  }
  int tty = (uint8_t)*at++;
  uint16_t rows, columns;
  memcpy(&rows, at, 2);
  memcpy(&columns, at + 2, 2);
  at += 4;
  uint32_t argc = take_u32(&at), envc = take_u32(&at);
  if (argc < 1 || argc > MAX_EXEC_STRINGS || envc > MAX_EXEC_STRINGS) {
    errno = EINVAL;
    refuse_exec("parse", "exec request");
  }
  char **strings = calloc((size_t)argc + envc + 2, sizeof *strings);
  if (!strings) refuse_exec("calloc", "-");
  for (uint32_t i = 0; i < argc + envc; i++) {
    const char *nul = at < end ? memchr(at, '\0', (size_t)(end - at)) : NULL;
    if (!nul) {
      errno = EINVAL;
      refuse_exec("parse", "exec request");
    }
    strings[i < argc ? i : i + 1] = (char *)at;
    at = nul + 1;
  }
  char **argv = strings, **envp = &strings[argc + 1];
  o.rows = rows ? rows : 24;
  o.columns = columns ? columns : 80;

  /* The process's stdio: a terminal from the job's devpts, or three pipes. */
  int tty_socket[2] = { -1, -1 }, in[2] = { -1, -1 }, out[2] = { -1, -1 }, err[2] = { -1, -1 }, report[2];
  if (pipe2(report, O_CLOEXEC) < 0) refuse_exec("pipe2", "-");
  if (tty && socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, tty_socket) < 0) refuse_exec("socketpair", "-");
  if (!tty && (pipe2(in, O_CLOEXEC) < 0 || pipe2(out, O_CLOEXEC) < 0 || pipe2(err, O_CLOEXEC) < 0))
    refuse_exec("pipe2", "stdio");
  int stdio[3] = { in[0], out[1], err[1] };
  pid_t keeper = fork();
  if (keeper < 0) refuse_exec("fork", "-");
  if (keeper == 0) {
    /* The exec server's ends: held here, the process would never see its stdin's EOF. */
    int servers_ends[] = { connection, report[0], in[1], out[0], err[0], tty_socket[0] };
    for (size_t i = 0; i < sizeof servers_ends / sizeof servers_ends[0]; i++)
      if (servers_ends[i] >= 0) close(servers_ends[i]);
    keep(&o, init_pidfd, init_pid, argv, envp, tty_socket[1], stdio, report[1]);
  }
  int keeper_pidfd = (int)syscall(SYS_pidfd_open, keeper, 0);
  close(report[1]);
  for (int fd = 0; fd <= 2; fd++)
    if (stdio[fd] >= 0) close(stdio[fd]);
  int terminal = -1;
  if (tty) {
    close(tty_socket[1]);
    terminal = receive_fd(tty_socket[0]);
    close(tty_socket[0]);
  }
  int input = tty ? terminal : in[1], outputs[2] = { tty ? terminal : out[0], tty ? -1 : err[0] };
  if (input >= 0) fcntl(input, F_SETFL, fcntl(input, F_GETFL) | O_NONBLOCK);
  for (int i = 0; i < 2; i++)
    if (outputs[i] >= 0) fcntl(outputs[i], F_SETFL, fcntl(outputs[i], F_GETFL) | O_NONBLOCK);

  static char buffer[5 + MAX_MESSAGE_BYTES]; /* what the client sent, not yet handled */
  size_t length = rest_size < sizeof buffer ? rest_size : sizeof buffer, pending_from = 0, pending_to = 0;
  memcpy(buffer, rest, length); /* what the client sent after the request, read by the launcher */
  struct exec_report result;
  int have_result = 0;
  for (;;) {
    /* One whole message at a time; input waits for the process to take what came before it. */
    while (pending_from == pending_to && length >= 5) {
      uint32_t size_of;
      memcpy(&size_of, buffer, 4);
      if (size_of < 1 || size_of - 1 > MAX_MESSAGE_BYTES) {
        signal_process(keeper_pidfd, SIGKILL);
        _exit(0);
      }
      if (length < 4 + (size_t)size_of) break;
      handle_exec_message(&input, terminal, keeper_pidfd, (uint8_t)buffer[4], buffer + 5, size_of - 1, &pending_to);
      pending_from = 0;
      memmove(buffer, buffer + 4 + size_of, length - 4 - size_of);
      length -= 4 + (size_t)size_of;
    }
    int waiting = pending_to > pending_from;
    struct pollfd fds[5] = {
      { .fd = waiting ? -1 : connection, .events = POLLIN },
      { .fd = waiting ? input : -1, .events = POLLOUT },
      { .fd = outputs[0], .events = POLLIN },
      { .fd = outputs[1], .events = POLLIN },
      { .fd = report[0], .events = POLLIN },
    };
    if (poll(fds, 5, -1) < 0) {
      if (errno == EINTR) continue;
      break;
    }
    if (fds[4].revents) {
      have_result = read(report[0], &result, sizeof result) == sizeof result;
      break;
    }
    for (int i = 0; i < 2; i++)
      if (fds[2 + i].revents && relay_output(outputs[i], i == 0 ? EXEC_STDOUT : EXEC_STDERR) < 0) outputs[i] = -1;
    if (fds[1].revents) {
      ssize_t n = write(input, pending + pending_from, pending_to - pending_from);
      if (n > 0) pending_from += (size_t)n;
      else if (n < 0 && errno != EAGAIN && errno != EINTR) pending_from = pending_to; /* EPIPE: dropped */
      if (pending_from == pending_to) pending_from = pending_to = 0;
    }
    if (fds[0].revents) {
      ssize_t n = read(connection, buffer + length, sizeof buffer - length);
      if (n <= 0) {
        signal_process(keeper_pidfd, SIGKILL); /* the client went away: so does its process */
        _exit(0);
      }
      length += (size_t)n;
    }
  }
  /* The process has ended: what it wrote is in its pipes or terminal; send it, then its end. */
  for (int i = 0; i < 2; i++)
    while (outputs[i] >= 0 && relay_output(outputs[i], i == 0 ? EXEC_STDOUT : EXEC_STDERR) == 1) {}
  if (!have_result) {
    errno = EPROTO;
    refuse_exec("read", "exec status");
  }
  if (result.failed) {
    result.failure.what[sizeof result.failure.what - 1] = '\0';
    struct { int32_t err; char what[WHAT_BYTES]; } body = { .err = result.failure.err };
    memcpy(body.what, result.failure.what, sizeof body.what);
    send_frame(EXEC_FAILED, &body, (uint32_t)(4 + strlen(body.what)));
  } else {
    send_frame(EXEC_EXIT, &result.status, 4);
  }
  shutdown(connection, SHUT_WR);
  _exit(0);
}
