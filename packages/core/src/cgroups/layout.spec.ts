import { describe, expect, it } from "vitest";
import { parseLayout } from "./layout.js";

const line = (id: number, mountPoint: string, fsType: string, options: string) =>
  `${id} 23 0:${id} / ${mountPoint} rw,relatime - ${fsType} ${fsType} ${options}`;

describe("parseLayout", () => {
  it("recognises a hybrid host: v1 controllers plus a controller-less cgroup2", () => {
    const layout = parseLayout(
      [
        line(31, "/sys/fs/cgroup", "tmpfs", "rw,mode=755"),
        line(32, "/sys/fs/cgroup/cpu", "cgroup", "rw,cpu"),
        line(33, "/sys/fs/cgroup/cpuacct", "cgroup", "rw,cpuacct"),
        line(35, "/sys/fs/cgroup/memory", "cgroup", "rw,memory"),
        line(38, "/sys/fs/cgroup/blkio", "cgroup", "rw,blkio"),
        line(39, "/sys/fs/cgroup/pids", "cgroup", "rw,pids"),
        line(40, "/sys/fs/cgroup/systemd", "cgroup", "rw,name=systemd"),
        line(41, "/sys/fs/cgroup/unified", "cgroup2", "rw"),
      ].join("\n"),
    );
    expect(layout.kind).toBe("hybrid");
    expect(layout.unifiedRoot).toBe("/sys/fs/cgroup/unified");
    expect(Object.fromEntries(layout.v1Roots)).toEqual({
      cpu: "/sys/fs/cgroup/cpu",
      cpuacct: "/sys/fs/cgroup/cpuacct",
      memory: "/sys/fs/cgroup/memory",
      blkio: "/sys/fs/cgroup/blkio",
      pids: "/sys/fs/cgroup/pids",
    });
  });

  it("recognises a pure v2 host", () => {
    const layout = parseLayout(line(30, "/sys/fs/cgroup", "cgroup2", "rw,nsdelegate,memory_recursiveprot"));
    expect(layout).toEqual({ kind: "v2", unifiedRoot: "/sys/fs/cgroup", v1Roots: new Map() });
  });

  it("recognises a pure v1 host with co-mounted controllers", () => {
    const layout = parseLayout(
      [
        line(32, "/sys/fs/cgroup/cpu,cpuacct", "cgroup", "rw,cpu,cpuacct"),
        line(35, "/sys/fs/cgroup/memory", "cgroup", "rw,memory"),
      ].join("\n"),
    );
    expect(layout.kind).toBe("v1");
    expect(layout.v1Roots.get("cpu")).toBe("/sys/fs/cgroup/cpu,cpuacct");
    expect(layout.v1Roots.get("cpuacct")).toBe("/sys/fs/cgroup/cpu,cpuacct");
  });

  it("unescapes octal escapes in mount points", () => {
    expect(parseLayout(line(30, "/sys/fs/my\\040cgroup", "cgroup2", "rw")).unifiedRoot).toBe("/sys/fs/my cgroup");
  });

  it("fails clearly when no cgroup hierarchy is mounted", () => {
    expect(() => parseLayout(line(1, "/", "ext4", "rw"))).toThrow(/no cgroup hierarchy is mounted/);
  });
});
