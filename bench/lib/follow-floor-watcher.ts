// The follow-latency floor's watcher: serves one TLS client the file named on the command
// line, as it grows. It learns of new bytes the way the server does (inotify, through
// fs.watch), reads them and writes them to the socket, with nothing else in between.
// Usage: node follow-floor-watcher.ts FILE KEY CERT CIPHER; prints the port it listens on.
import { watch } from "node:fs";
import { open, readFile } from "node:fs/promises";
import { createServer } from "node:tls";

const [file, keyPath, certPath, cipher] = process.argv.slice(2) as [string, string, string, string];
const [key, cert] = await Promise.all([readFile(keyPath), readFile(certPath)]);
const server = createServer({ key, cert, minVersion: "TLSv1.3", ciphers: cipher }, async (socket) => {
  socket.setNoDelay(true);
  const handle = await open(file, "r");
  const buffer = Buffer.allocUnsafe(64 * 1024);
  let offset = 0;
  let reading = false;
  let again = false;
  const sendNew = async () => {
    if (reading) {
      again = true;
      return;
    }
    reading = true;
    do {
      again = false;
      for (;;) {
        const { bytesRead } = await handle.read(buffer, 0, buffer.length, offset);
        if (bytesRead === 0) break;
        offset += bytesRead;
        socket.write(Buffer.from(buffer.subarray(0, bytesRead)));
      }
    } while (again);
    reading = false;
  };
  const watcher = watch(file, () => void sendNew());
  socket.once("close", () => {
    watcher.close();
    void handle.close();
    server.close();
  });
  await sendNew();
});
server.listen(0, "127.0.0.1", () => {
  process.stdout.write(`${(server.address() as { port: number }).port}\n`);
});
