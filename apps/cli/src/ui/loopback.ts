/** True for the addresses 'runjob ui' may listen on: loopback only, the page must not be reachable from elsewhere. */
export function isLoopback(host: string): boolean {
  return host === "localhost" || /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}
