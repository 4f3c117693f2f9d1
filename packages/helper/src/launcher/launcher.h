/* Declarations shared by the launcher's parts: launcher.c (protocol, launch,
 * init, supervision), filesystem.c (the job's view) and seccomp.c (its filter). */
#ifndef JOBWORKER_LAUNCHER_H
#define JOBWORKER_LAUNCHER_H

#include <sys/types.h>

#define MAX_V1_CGROUPS 16
#define MAX_EXPOSED 64
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
  char **argv;
};

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
