/*
 * The job's view of the filesystem: an allow-list. It is built on an empty
 * tmpfs and pivoted into, so anything of the host that is not listed here, or
 * exposed by the operator, does not exist for the job: no host device node, no
 * host unix socket, no state dir.
 *
 *   system dirs (/usr /bin /lib* ...) the host's, read-only, nosuid, nodev (the list is the caller's)
 *   exposed paths                     the host's, read-only unless exposed rw
 *   private dir, /tmp, /run, /dev/shm one tmpfs of the job's disk size and inode cap;
 *                                     its pages are charged to the job's memory cgroup
 *   /dev                              null zero full random urandom tty (nodes of the host's
 *                                     numbers), a private devpts
 *   /proc                             fresh, of the job's PID namespace
 *   /sys                              read-only; /sys/fs/cgroup shows only the job's cgroup
 *
 * Runs in the job's init, as root, in its new mount namespace, before any
 * privilege is dropped.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "launcher.h"

#define HOST "/.host"       /* the host's root while the view is built */
#define SCRATCH "/.scratch" /* the job's writable tmpfs before its parts are bound into place */

static const char *const DEVICES[] = { "null", "zero", "full", "random", "urandom", "tty" };

/* mkdir -p: every missing directory on the way to path. */
static void make_dirs(const char *path) {
  char partial[PATH_MAX];
  size_t length = strlen(path);
  if (length >= sizeof partial) {
    errno = ENAMETOOLONG;
    fail("mkdir", path);
  }
  for (size_t i = 1; i <= length; i++) {
    if (path[i] != '/' && path[i] != '\0') continue;
    memcpy(partial, path, i);
    partial[i] = '\0';
    if (mkdir(partial, 0755) < 0 && errno != EEXIST) fail("mkdir", partial);
  }
}

/* An empty file to mount a non-directory onto, with its parent directories. */
static void make_file(const char *path) {
  char parent[PATH_MAX];
  snprintf(parent, sizeof parent, "%s", path);
  char *slash = strrchr(parent, '/');
  if (slash && slash != parent) {
    *slash = '\0';
    make_dirs(parent);
  }
  int fd = open(path, O_WRONLY | O_CREAT | O_NOFOLLOW | O_CLOEXEC, 0644);
  CHECK(fd, "open", path);
  close(fd);
}

static void set_mount_attributes(const char *path, unsigned int flags, unsigned long long attr) {
  struct mount_attr attributes = { .attr_set = attr };
  CHECK(mount_setattr(AT_FDCWD, path, flags, &attributes, sizeof attributes), "mount_setattr", path);
}

/*
 * Binds a host path at the same path in the view, with what is mounted below
 * it, nosuid and nodev, read-only unless writable. A system directory that is a
 * symlink on the host (merged /usr: /bin -> usr/bin) becomes the same symlink;
 * one the host lacks is left out.
 */
static void bind_host_path(const char *path, int writable, int is_system_dir) {
  char source[PATH_MAX];
  struct stat info;
  if (snprintf(source, sizeof source, HOST "%s", path) >= (int)sizeof source) {
    errno = ENAMETOOLONG;
    fail("bind", path);
  }
  if (is_system_dir) {
    if (lstat(source, &info) < 0) {
      if (errno == ENOENT) return;
      fail("lstat", path);
    }
    if (S_ISLNK(info.st_mode)) {
      char target[PATH_MAX];
      ssize_t length = readlink(source, target, sizeof target - 1);
      CHECK(length, "readlink", path);
      target[length] = '\0';
      CHECK(symlink(target, path), "symlink", path);
      return;
    }
  }
  CHECK(stat(source, &info), "stat", path);
  if (S_ISDIR(info.st_mode)) make_dirs(path);
  else make_file(path);
  CHECK(mount(source, path, NULL, MS_BIND | MS_REC, NULL), "mount(rbind)", path);
  set_mount_attributes(path, AT_RECURSIVE,
                       MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV | (writable ? 0 : MOUNT_ATTR_RDONLY));
}

/* Binds a directory of the job's writable tmpfs at target, owned by the job or world-writable. */
static void bind_scratch_dir(const struct options *o, const char *name, const char *target, mode_t mode, int owned) {
  char source[PATH_MAX];
  snprintf(source, sizeof source, SCRATCH "/%s", name);
  CHECK(mkdir(source, mode), "mkdir", source);
  CHECK(chmod(source, mode), "chmod", source); /* mkdir's mode passes through the umask */
  if (owned) CHECK(chown(source, o->uid, o->gid), "chown", source);
  make_dirs(target);
  CHECK(mount(source, target, NULL, MS_BIND, NULL), "mount(bind)", target);
}

/* The job's writable space: one size- and inode-capped tmpfs, so the kernel enforces its disk limit. */
static void mount_writable_space(const struct options *o) {
  char options[128];
  snprintf(options, sizeof options, "mode=0755,size=%llu,nr_inodes=%llu", o->disk_bytes, o->disk_inodes);
  CHECK(mkdir(SCRATCH, 0700), "mkdir", SCRATCH);
  CHECK(mount("jobworker-disk", SCRATCH, "tmpfs", MS_NOSUID | MS_NODEV, options), "mount(tmpfs)", SCRATCH);
  bind_scratch_dir(o, "work", o->private_dir, 0700, 1);
  bind_scratch_dir(o, "tmp", "/tmp", 01777, 0);
  bind_scratch_dir(o, "run", "/run", 0755, 1);
}

/* A minimal /dev, as bubblewrap's --dev and systemd's PrivateDevices= build it. */
static void build_dev(const struct options *o) {
  char path[64], source[64];
  CHECK(mkdir("/dev", 0755), "mkdir", "/dev");
  CHECK(mount("jobworker-dev", "/dev", "tmpfs", MS_NOSUID | MS_NOEXEC, "mode=0755,size=64k"), "mount(tmpfs)", "/dev");
  /* The same character devices as the host's (a node, not a mount each: fewer mounts to set up and tear down). */
  for (size_t i = 0; i < sizeof DEVICES / sizeof DEVICES[0]; i++) {
    struct stat host;
    snprintf(path, sizeof path, "/dev/%s", DEVICES[i]);
    snprintf(source, sizeof source, HOST "/dev/%s", DEVICES[i]);
    CHECK(stat(source, &host), "stat", source);
    if (!S_ISCHR(host.st_mode)) {
      errno = ENODEV;
      fail("stat", source);
    }
    CHECK(mknod(path, S_IFCHR | 0666, host.st_rdev), "mknod", path);
    CHECK(chmod(path, 0666), "chmod", path); /* mknod's mode passes through the umask */
  }
  /* Its own devpts instance: the job's terminals are its own, and it sees no host terminal. */
  CHECK(mkdir("/dev/pts", 0755), "mkdir", "/dev/pts");
  CHECK(mount("devpts", "/dev/pts", "devpts", MS_NOSUID | MS_NOEXEC, "newinstance,ptmxmode=0666,mode=0620"),
        "mount(devpts)", "/dev/pts");
  CHECK(symlink("pts/ptmx", "/dev/ptmx"), "symlink", "/dev/ptmx");
  bind_scratch_dir(o, "shm", "/dev/shm", 01777, 0);
  const char *links[][2] = {
    { "/proc/self/fd", "/dev/fd" }, { "/proc/self/fd/0", "/dev/stdin" },
    { "/proc/self/fd/1", "/dev/stdout" }, { "/proc/self/fd/2", "/dev/stderr" },
  };
  for (size_t i = 0; i < sizeof links / sizeof links[0]; i++)
    CHECK(symlink(links[i][0], links[i][1]), "symlink", links[i][1]);
  set_mount_attributes("/dev", 0, MOUNT_ATTR_RDONLY); /* the tmpfs only: devpts and shm stay writable */
}

static void mount_kernel_filesystems(void) {
  unsigned long flags = MS_NOSUID | MS_NODEV | MS_NOEXEC;
  CHECK(mkdir("/proc", 0555), "mkdir", "/proc");
  CHECK(mount("proc", "/proc", "proc", flags, NULL), "mount(proc)", "/proc");
  CHECK(mkdir("/sys", 0555), "mkdir", "/sys");
  CHECK(mount("sysfs", "/sys", "sysfs", flags | MS_RDONLY, NULL), "mount(sysfs)", "/sys");
  /* In the job's cgroup namespace, a fresh cgroup2 mount shows only its own cgroup. */
  CHECK(mount("cgroup2", "/sys/fs/cgroup", "cgroup2", flags | MS_RDONLY, NULL), "mount(cgroup2)", "/sys/fs/cgroup");
}

/* The state dir stays out of reach even when it lies under a directory the view includes. */
static void hide_state_dir(const char *dir) {
  struct stat info;
  if (!dir || stat(dir, &info) < 0) return; /* not in the view: nothing to hide */
  CHECK(mount("jobworker-hidden", dir, "tmpfs", MS_NOSUID | MS_NODEV | MS_NOEXEC | MS_RDONLY, "mode=0755,size=4k"),
        "mount(tmpfs)", dir);
}

void build_filesystem_view(const struct options *o) {
  /* Nothing mounted from here on may propagate back to the host. */
  CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), "mount(rprivate)", "/");
  /* The new root: an empty tmpfs, mounted over /tmp only in this namespace. */
  CHECK(mount("jobworker-root", "/tmp", "tmpfs", MS_NOSUID | MS_NODEV, "mode=0755,size=256k"), "mount(tmpfs)", "/tmp");
  CHECK(chdir("/tmp"), "chdir", "/tmp");
  CHECK(mkdir("." HOST, 0700), "mkdir", HOST);
  CHECK(syscall(SYS_pivot_root, ".", "." HOST), "pivot_root", "/tmp");
  CHECK(chdir("/"), "chdir", "/");

  for (int i = 0; i < o->system_dir_count; i++) bind_host_path(o->system_dirs[i], 0, 1);
  for (int i = 0; i < o->exposed_count; i++) bind_host_path(o->exposed[i].path, o->exposed[i].writable, 0);
  hide_state_dir(o->hide_dir);
  mount_writable_space(o);
  build_dev(o);
  mount_kernel_filesystems();

  /* The staging mounts go: their parts stay bound where they belong. */
  CHECK(umount2(SCRATCH, MNT_DETACH), "umount2", SCRATCH);
  CHECK(rmdir(SCRATCH), "rmdir", SCRATCH);
  CHECK(umount2(HOST, MNT_DETACH), "umount2", HOST);
  CHECK(rmdir(HOST), "rmdir", HOST);
  set_mount_attributes("/", 0, MOUNT_ATTR_RDONLY);
}
