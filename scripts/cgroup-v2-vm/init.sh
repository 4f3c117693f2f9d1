#!/bin/busybox sh
# PID 1 of the cgroup v2 test VM: loads the drivers, mounts the host tree (9p)
# and a scratch virtio-blk disk (at /mnt, where the tests keep their state), then runs the tests on a pure cgroup v2 hierarchy.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
for module in $(cat /modules.order); do insmod "/modules/$module" || echo "vm: insmod $module failed"; done
mount -t 9p -o trans=virtio,version=9p2000.L,msize=512000,cache=loose host /host || { echo "vm: 9p mount failed"; poweroff -f; }
mount -t ext4 /dev/vda /host/mnt || { echo "vm: disk mount failed"; poweroff -f; }
mount -t proc proc /host/proc || echo "vm: mounting /host/proc failed"
mount -t sysfs sysfs /host/sys
mount -t cgroup2 cgroup2 /host/sys/fs/cgroup
mount -t devtmpfs devtmpfs /host/dev
mount -t tmpfs tmpfs /host/tmp
mount -t tmpfs tmpfs /host/run
echo "vm: kernel $(uname -r), cgroup controllers: $(cat /sys/fs/cgroup/cgroup.controllers 2>/dev/null || cat /host/sys/fs/cgroup/cgroup.controllers)"
chroot /host /bin/sh -c "cd '$(cat /repo)' && CI=1 JOBWORKER_TEST_TMPDIR=/mnt $(cat /command)"
echo "VM-RESULT rc=$?"
sync
poweroff -f
