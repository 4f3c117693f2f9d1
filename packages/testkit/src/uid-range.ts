let counter = 0;

/**
 * A job uid range of its own for each test manager or server: tests run in
 * parallel processes, and two managers that shared uids would share jobs'
 * privileges (the manager refuses to start on such a clash). Derived from the
 * pid, far above any host account.
 */
export function testUidRange(): { first: number; count: number } {
  const count = 1024;
  return { first: 10_000_000 + ((process.pid * 64 + counter++) % 100_000) * count, count };
}
