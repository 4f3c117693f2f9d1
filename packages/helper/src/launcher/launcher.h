/* Declarations shared by the launcher's parts: service.c (the service, main),
 * launcher.c (one job's launcher), init.c (the job's init and main process),
 * filesystem.c (the job's view) and seccomp.c (its syscall filter). */
#ifndef JOBWORKER_LAUNCHER_H
#define JOBWORKER_LAUNCHER_H

#include <stddef.h>
#include <signal.h>
#include <stdint.h>
#include <sys/types.h>

#define HANDSHAKE_FD 3   /* the service's socket to the caller, inherited by each launcher */
#define WHAT_BYTES 240   /* "call path" of a failure: fits one atomic pipe write with its errno */

#define MAX_V1_CGROUPS 16
#define MAX_EXPOSED 64
#define MAX_CGROUP_WRITES 32
#define MAX_CGROUP_READS 16
#define MAX_SYSTEM_DIRS 16

/* A host path the operator made visible to jobs, at the same path. */
struct exposed_path {
  const char *path;
  int writable;
};

/* One job's launch options, parsed from the request (see parse_options). */
struct options {
  const char *job_dir, *log_path, *hostname, *workdir, *private_dir, *hide_dir;
  const char *cgroup2, *cgroup1[MAX_V1_CGROUPS];
  int cgroup1_count;
  /* Create the cgroup directories above (they are the job's own), then write each "<file>\n<value>". */
  int create_cgroups;
  const char *cgroup_writes[MAX_CGROUP_WRITES];
  int cgroup_write_count;
  /* Files of those cgroups read into the exit record once the job is gone, before they are removed. */
  const char *cgroup_reads[MAX_CGROUP_READS];
  int cgroup_read_count;
  const char *system_dirs[MAX_SYSTEM_DIRS]; /* the host's, read-only, where it has them */
  int system_dir_count;
  struct exposed_path exposed[MAX_EXPOSED];
  int exposed_count;
  uid_t uid;
  gid_t gid;
  /* Size and inode cap of the job's writable tmpfs (work dir, /tmp, /run, /dev/shm). */
  unsigned long long disk_bytes, disk_inodes;
  /* RLIMIT_FSIZE of the job: no file it writes, its output included, grows past this. */
  unsigned long long output_limit;
  /* The job's stdin: /dev/null, a pipe the launcher feeds, or a terminal of its own (see attach.c). */
  enum { STDIN_NULL, STDIN_PIPE, STDIN_TTY } stdin_kind;
  unsigned short rows, columns; /* the terminal's first window size */
  char **argv;
};

/* The init's ends of its channels to the launcher. */
struct init_fds {
  int failure;     /* close-on-exec pipe: setup and exec failures */
  int log;         /* output.log, append-only */
  int status;      /* the main process's wait status */
  int stdin_read;  /* STDIN_PIPE: the job's stdin; -1 otherwise */
  int tty_socket;  /* STDIN_TTY: where the terminal's leader side goes to the launcher; -1 otherwise */
};

/* Largest message on attach.sock after its header (the server splits input into messages this big). */
#define MAX_MESSAGE_BYTES 16384

/*
 * The signal that carries another one, as its queued value, from the launcher
 * to the init, which sends the value to the job's main process: the init
 * cannot be sent SIGKILL or SIGSTOP for the job without taking them itself.
 */
#define SIGNAL_CARRIER (SIGRTMIN + 1)

/* Queues `sig` for an init or keeper through its pidfd, as SIGNAL_CARRIER's value (attach.c). */
int send_carrier_signal(int pidfd, int sig);

/* What the launcher serves while the job runs (attach.c). */
struct job_io {
  const struct options *options;
  int pidfd;       /* the init's */
  pid_t init_pid;  /* the init's, as the host sees it: unreaped while it runs, so never reused meanwhile */
  int control_fd;  /* <job-dir>/control, the FIFO: "term", "kill" */
  int listen_fd;   /* <job-dir>/attach.sock */
  int input_fd;    /* the job's stdin: the pipe's write end, or the terminal; -1 when none or closed */
  int tty_fd;      /* the terminal's leader side, -1 without one */
  int log_fd;      /* output.log: a terminal's output is appended here */
  unsigned long long output_limit;
};

/* What the init or the job sends the launcher when a call fails: errno and "call path". */
struct failure {
  int32_t err;
  char what[WHAT_BYTES];
};

/* service.c hands each launcher its request's id; replies carry it. */
extern uint32_t request_id;

/* launcher.c: starts one job from its options; returns the launcher's exit code. */
int launch_job(int argc, char **argv);

/* init.c: runs as the job's init in its new namespaces; never returns. */
_Noreturn void run_init(const struct options *o, const struct init_fds *fds);

/* attach.c: listens on <job-dir>/attach.sock; -1 with errno on failure. */
int open_attach_socket(const char *job_dir);

/* attach.c: serves the job's socket, stdin, terminal and control FIFO until the init has exited. */
void serve_job(struct job_io *io);

/* init.c: the job's uid, no capabilities, not dumpable, no_new_privs, rlimits, the seccomp filter. */
void drop_privileges(const struct options *o);

/* init.c: opens a terminal in the job's devpts (o->rows x o->columns), sends its leader side on
 * tty_socket and returns the follower side. Call with the job's view in place, before dropping privileges. */
int open_terminal(const struct options *o, int tty_socket);

/* init.c: where fail() reports from now on (a close-on-exec pipe). */
void report_failures_to(int fd);

/* exec.c: runs one exec request's process in the job, serving it on `connection`; never returns. */
_Noreturn void serve_exec(const struct options *o, int init_pidfd, pid_t init_pid, int connection, const char *spec,
                          size_t size, const char *rest, size_t rest_size);

/* "call path" on one line, with control characters replaced: a path can hold any byte but NUL. */
void describe_call(char *out, size_t size, const char *call, const char *path);

/*
 * Reports a failed call, named with the path it acted on ("mount_setattr /usr"),
 * and errno, to the outer launcher, then ends this process. Only the init and
 * the job call it: they report through the close-on-exec failure pipe.
 */
_Noreturn void fail(const char *call, const char *path);

#define CHECK(expr, call, path) \
  do {                          \
    if ((expr) < 0) fail((call), (path)); \
  } while (0)

/* filesystem.c: builds the job's allow-listed view and pivots into it. */
void build_filesystem_view(const struct options *o);

/* seccomp.c: installs the job's syscall filter (inherited across fork and exec). */
int install_seccomp_filter(void);

#endif
