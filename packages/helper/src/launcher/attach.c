/*
 * The launcher's side of a running job: its socket <job-dir>/attach.sock, the
 * control FIFO, the job's stdin (a pipe or the terminal's leader side) and,
 * for a terminal job, copying the terminal's output into output.log.
 *
 * Messages on the socket (from the server, one or more connections at once):
 *   u32 length (of what follows, native byte order), u8 type, payload
 *   ATTACH_INPUT        bytes for the job's stdin
 *   ATTACH_CLOSE_STDIN  the job reads EOF once what came before is written
 *                       (a terminal gets its EOF character instead)
 *   ATTACH_RESIZE       u16 rows, u16 columns: the terminal's window size
 *   ATTACH_SIGNAL       i32 signal number, for the job's main process
 *   ATTACH_EXEC         run another process in the job: the connection is
 *                       handed to an exec server from then on (exec.c)
 * Nothing is answered: the server learns of the job's end from its exit record.
 *
 * Flow control: the launcher holds at most one message of input. While it
 * cannot be written (the job is not reading), further input waits in its
 * connection's buffer, which is read no further once full: the sockets fill
 * and the server's writes wait, and so does its client. Messages on one
 * connection are handled in order, so signals and resizes are best sent on a
 * connection of their own.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <unistd.h>

#include "launcher.h"

#define MAX_CONNECTIONS 16 /* attached clients of one job at once: each AttachJob takes up to two */
#define HEADER_BYTES 5

enum { ATTACH_INPUT = 1, ATTACH_CLOSE_STDIN = 2, ATTACH_RESIZE = 3, ATTACH_SIGNAL = 4, ATTACH_EXEC = 5 };

struct connection {
  int fd;
  int closed;   /* the client has gone: handle what it sent, then drop the connection */
  size_t length;
  char buffer[HEADER_BYTES + MAX_MESSAGE_BYTES];
};

static struct connection connections[MAX_CONNECTIONS];
static char pending[MAX_MESSAGE_BYTES]; /* input not yet written to the job */
static size_t pending_from, pending_to;
static int close_after_pending;

int open_attach_socket(const char *job_dir) {
  /*
   * Bound through the job dir's fd: a socket's path holds at most 107 bytes,
   * and a state dir may be deep. The server connects the same way.
   */
  int dir = open(job_dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
  if (dir < 0) return -1;
  struct sockaddr_un address = { .sun_family = AF_UNIX };
  snprintf(address.sun_path, sizeof address.sun_path, "/proc/self/fd/%d/attach.sock", dir);
  int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) {
    close(dir);
    return -1;
  }
  unlinkat(dir, "attach.sock", 0); /* left by a launcher of the same job dir that did not end cleanly */
  /* The state dir is 0700 already; 0600 keeps the socket the server's even if that ever changes. */
  mode_t old = umask(0177);
  int bound = bind(fd, (struct sockaddr *)&address, sizeof address);
  umask(old);
  if (bound < 0 || listen(fd, MAX_CONNECTIONS) < 0) {
    int err = errno;
    close(fd);
    close(dir);
    errno = err;
    return -1;
  }
  close(dir);
  return fd;
}

/*
 * Queues `sig` for the process behind `pidfd` as the value of the carrier
 * signal: an init (or an exec's keeper) forwards it to its one child (see
 * init.c). Sent through the pidfd, so a reused pid is never hit. -1 with errno
 * set when the kernel refused it.
 */
int send_carrier_signal(int pidfd, int sig) {
  if (sig <= 0 || sig >= NSIG) {
    errno = EINVAL;
    return -1;
  }
  siginfo_t info;
  memset(&info, 0, sizeof info);
  info.si_signo = SIGNAL_CARRIER;
  info.si_code = SI_QUEUE;
  info.si_pid = getpid();
  info.si_uid = getuid();
  info.si_value.sival_int = sig;
  return (int)syscall(SYS_pidfd_send_signal, pidfd, SIGNAL_CARRIER, &info, 0);
}

/* Queues a signal for the job's main process, through its init. */
static void signal_job(int pidfd, int sig) {
  if (send_carrier_signal(pidfd, sig) < 0) fprintf(stderr, "launcher: signal %d for the job: %s\n", sig, strerror(errno));
}

static void close_input(struct job_io *io) {
  if (io->tty_fd >= 0) {
    /* A terminal has no "closed" direction: its EOF character makes the reader's read return 0. */
    struct termios modes;
    char eof = tcgetattr(io->tty_fd, &modes) == 0 ? (char)modes.c_cc[VEOF] : 4;
    if (write(io->tty_fd, &eof, 1) < 0 && errno != EIO) perror("launcher: writing EOF to the terminal");
    return;
  }
  if (io->input_fd >= 0) close(io->input_fd);
  io->input_fd = -1;
}

/*
 * Hands the connection to an exec server (exec.c), forked twice so that it is
 * not this launcher's child: the launcher reaps only its init.
 */
static void start_exec(struct job_io *io, struct connection *c, const char *spec, uint32_t size) {
  pid_t middle = fork();
  if (middle < 0) {
    perror("launcher: fork for exec");
    return;
  }
  if (middle == 0) {
    if (fork() != 0) _exit(0);
    close(io->listen_fd);
    close(io->control_fd);
    close(io->log_fd);
    if (io->input_fd >= 0) close(io->input_fd);
    if (io->tty_fd >= 0 && io->tty_fd != io->input_fd) close(io->tty_fd);
    for (int i = 0; i < MAX_CONNECTIONS; i++)
      if (connections[i].fd >= 0 && &connections[i] != c) close(connections[i].fd);
    const char *rest = spec + size;
    serve_exec(io->options, io->pidfd, io->init_pid, c->fd, spec, size, rest, (size_t)(c->buffer + c->length - rest));
  }
  while (waitpid(middle, NULL, 0) < 0 && errno == EINTR) {}
}

/* Handles one whole message; returns -1 for one that breaks the protocol, 1 when the connection was handed on. */
static int handle_message(struct job_io *io, struct connection *c, uint8_t type, const char *payload, uint32_t size) {
  switch (type) {
  case ATTACH_EXEC:
    start_exec(io, c, payload, size);
    return 1;
  case ATTACH_INPUT:
    if (io->input_fd < 0) return 0; /* no stdin, or closed: the bytes have nowhere to go */
    memcpy(pending, payload, size);
    pending_from = 0;
    pending_to = size;
    return 0;
  case ATTACH_CLOSE_STDIN:
    if (pending_to > pending_from) close_after_pending = 1;
    else close_input(io);
    return 0;
  case ATTACH_RESIZE: {
    if (size != 4) return -1;
    uint16_t rows, columns;
    memcpy(&rows, payload, 2);
    memcpy(&columns, payload + 2, 2);
    struct winsize size_of_window = { .ws_row = rows, .ws_col = columns };
    /* The kernel sends SIGWINCH to the terminal's foreground process group. */
    if (io->tty_fd >= 0 && ioctl(io->tty_fd, TIOCSWINSZ, &size_of_window) < 0) perror("launcher: TIOCSWINSZ");
    return 0;
  }
  case ATTACH_SIGNAL: {
    if (size != 4) return -1;
    int32_t sig;
    memcpy(&sig, payload, 4);
    signal_job(io->pidfd, sig);
    return 0;
  }
  default:
    return -1;
  }
}

/*
 * Handles the connection's whole messages, in order, up to input that must
 * wait for the pending input to be written; -1 when it broke the protocol.
 */
static int handle_messages(struct job_io *io, struct connection *c) {
  size_t at = 0;
  while (c->length - at >= HEADER_BYTES) {
    uint32_t size;
    memcpy(&size, c->buffer + at, 4);
    if (size < 1 || size - 1 > MAX_MESSAGE_BYTES) return -1;
    if (c->length - at < 4 + (size_t)size) break;
    if (c->buffer[at + 4] == ATTACH_INPUT && pending_to > pending_from) break;
    int handled = handle_message(io, c, (uint8_t)c->buffer[at + 4], c->buffer + at + HEADER_BYTES, size - 1);
    if (handled < 0) return -1;
    if (handled == 1) return 1; /* the exec server has the connection, and what follows on it */
    at += 4 + (size_t)size;
  }
  memmove(c->buffer, c->buffer + at, c->length - at);
  c->length -= at;
  return 0;
}

static int has_whole_message(const struct connection *c) {
  uint32_t size;
  if (c->length < HEADER_BYTES) return 0;
  memcpy(&size, c->buffer, 4);
  return c->length >= 4 + (size_t)size;
}

static void drop_connection(struct connection *c) {
  close(c->fd);
  c->fd = -1;
  c->closed = 0;
  c->length = 0;
}

static void accept_connection(int listen_fd) {
  int fd = accept4(listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
  if (fd < 0) return;
  for (int i = 0; i < MAX_CONNECTIONS; i++) {
    if (connections[i].fd < 0) {
      connections[i].fd = fd;
      connections[i].closed = 0;
      connections[i].length = 0;
      return;
    }
  }
  close(fd); /* only polled for while a slot is free; a race at worst */
}

/* Writes what input is pending; a job that does not read leaves it pending. */
static void write_pending(struct job_io *io) {
  while (pending_to > pending_from) {
    ssize_t n = write(io->input_fd, pending + pending_from, pending_to - pending_from);
    if (n < 0) {
      if (errno == EINTR) continue;
      if (errno == EAGAIN) return;
      /* EPIPE (the job closed its stdin) or EIO (its terminal is gone): what is left is dropped. */
      pending_from = pending_to = 0;
      if (io->tty_fd < 0) close_input(io);
      return;
    }
    pending_from += (size_t)n;
  }
  pending_from = pending_to = 0;
  if (close_after_pending) {
    close_after_pending = 0;
    close_input(io);
  }
}

/*
 * Appends the terminal's output to the job's output, up to the output limit
 * (the launcher is not under the job's RLIMIT_FSIZE; the server ends a job
 * that reaches it). Returns -1 once the terminal has no writer left.
 */
static int copy_terminal_output(struct job_io *io) {
  char chunk[1 << 16];
  for (;;) {
    ssize_t n = read(io->tty_fd, chunk, sizeof chunk);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && errno == EAGAIN) return 0;
    if (n <= 0) return -1; /* EIO: every follower side is closed */
    struct stat st;
    if (fstat(io->log_fd, &st) == 0 && (unsigned long long)st.st_size + (size_t)n > io->output_limit)
      n = st.st_size < (off_t)io->output_limit ? (ssize_t)(io->output_limit - (unsigned long long)st.st_size) : 0;
    for (ssize_t done = 0; done < n;) {
      ssize_t w = write(io->log_fd, chunk + done, (size_t)(n - done));
      if (w < 0 && errno == EINTR) continue;
      if (w < 0) {
        perror("launcher: appending terminal output");
        break;
      }
      done += w;
    }
  }
}

static void obey_control(struct job_io *io) {
  char word[64];
  ssize_t n = read(io->control_fd, word, sizeof word - 1);
  if (n <= 0) return;
  word[n] = '\0';
  int sig = strstr(word, "kill") ? SIGKILL : strstr(word, "term") ? SIGTERM : 0;
  if (sig && syscall(SYS_pidfd_send_signal, io->pidfd, sig, NULL, 0) < 0) perror("launcher: pidfd_send_signal");
}

void serve_job(struct job_io *io) {
  for (int i = 0; i < MAX_CONNECTIONS; i++) connections[i].fd = -1;
  if (io->input_fd >= 0) fcntl(io->input_fd, F_SETFL, fcntl(io->input_fd, F_GETFL) | O_NONBLOCK);
  int terminal_open = io->tty_fd >= 0;
  for (;;) {
    struct pollfd fds[5 + MAX_CONNECTIONS];
    int count = 0, free_slot = 0;
    fds[count++] = (struct pollfd){ .fd = io->pidfd, .events = POLLIN };
    fds[count++] = (struct pollfd){ .fd = io->control_fd, .events = POLLIN };
    for (int i = 0; i < MAX_CONNECTIONS; i++) free_slot |= connections[i].fd < 0;
    fds[count++] = (struct pollfd){ .fd = free_slot ? io->listen_fd : -1, .events = POLLIN };
    int has_pending = pending_to > pending_from;
    /* The terminal's fd is polled for output, and for room while input is pending. */
    fds[count++] = (struct pollfd){ .fd = terminal_open ? io->tty_fd : -1,
                                    .events = (short)(POLLIN | (has_pending ? POLLOUT : 0)) };
    fds[count++] = (struct pollfd){ .fd = has_pending && io->tty_fd < 0 ? io->input_fd : -1, .events = POLLOUT };
    for (int i = 0; i < MAX_CONNECTIONS; i++) {
      struct connection *c = &connections[i];
      fds[count++] = (struct pollfd){ .fd = !c->closed && c->length < sizeof c->buffer ? c->fd : -1, .events = POLLIN };
    }
    if (poll(fds, (nfds_t)count, -1) < 0) {
      if (errno == EINTR) continue;
      perror("launcher: poll");
      return;
    }
    if (fds[0].revents & POLLIN) break;
    if (fds[1].revents & POLLIN) obey_control(io);
    if (fds[2].revents & POLLIN) accept_connection(io->listen_fd);
    if (fds[3].revents & (POLLIN | POLLHUP | POLLERR) && copy_terminal_output(io) < 0) terminal_open = 0;
    if ((fds[3].revents | fds[4].revents) & (POLLOUT | POLLERR | POLLHUP)) write_pending(io);
    for (int i = 0; i < MAX_CONNECTIONS; i++) {
      struct connection *c = &connections[i];
      if (c->fd < 0) continue;
      if (fds[5 + i].revents & (POLLIN | POLLHUP | POLLERR)) {
        ssize_t n = read(c->fd, c->buffer + c->length, sizeof c->buffer - c->length);
        if (n == 0 || (n < 0 && errno != EAGAIN && errno != EINTR)) c->closed = 1;
        if (n > 0) c->length += (size_t)n;
      }
      /* Also messages read earlier and held back while input was pending; on while the job takes input. */
      for (int progress = 1; progress;) {
        size_t before = c->length;
        int handled = handle_messages(io, c);
        if (handled < 0) fprintf(stderr, "launcher: a malformed message on attach.sock; connection closed\n");
        if (handled != 0) {
          drop_connection(c);
          break;
        }
        int was_pending = pending_to > pending_from;
        if (was_pending) write_pending(io);
        progress = c->length != before || (was_pending && pending_to == pending_from);
      }
      /* A client that has gone is dropped once no whole message of its is left (held back behind input). */
      if (c->fd >= 0 && c->closed && !has_whole_message(c)) drop_connection(c);
    }
  }
  /* The whole namespace is gone: what the terminal still holds is the job's last output. */
  if (terminal_open) {
    fcntl(io->tty_fd, F_SETFL, fcntl(io->tty_fd, F_GETFL) | O_NONBLOCK);
    copy_terminal_output(io);
  }
  for (int i = 0; i < MAX_CONNECTIONS; i++)
    if (connections[i].fd >= 0) drop_connection(&connections[i]);
}
