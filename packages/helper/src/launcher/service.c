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
 *             then "<id> started <init-host-pid> <launcher-pid> <launcher-start-time>" or
 *             "<id> error <errno> <launcher-pid> <call> <path>" from the launcher, and
 *             "exited <launcher-pid> <status>" once the service has reaped it
 *   EOF       the caller is gone: the service exits; launchers and jobs run on
 *   <job-dir>/control      FIFO; the words "term" and "kill" ask for a stop
 *   <job-dir>/exit.json    written atomically once the init has been reaped
 *   <job-dir>/launcher.log the launcher's own diagnostics (removed at its exit when empty)
 *
 * The parts: service.c (this file: the service and main), launcher.c (one job's
 * launcher), init.c (the job's init and main process), filesystem.c (the job's
 * view), seccomp.c (its syscall filter).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/wait.h>
#include <unistd.h>

#include "launcher.h"

#define MAX_REQUEST_BYTES (64u << 20)

static char *role_arg; /* the service's argv[1]: relabelled "job" in each launcher, for ps */

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
  /* A job's init whose launcher was killed becomes our child, and we reap it, whatever the host's PID 1 does. */
  if (prctl(PR_SET_CHILD_SUBREAPER, 1) < 0) perror("launcher service: prctl PR_SET_CHILD_SUBREAPER");
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
