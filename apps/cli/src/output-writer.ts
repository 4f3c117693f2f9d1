/** Writes raw bytes to stdout with backpressure. Resolves false once stdout is gone (EPIPE): stop quietly. */
export function writeStdout(data: Uint8Array): Promise<boolean> {
  return new Promise((resolve) => {
    if (stdoutClosed) return resolve(false);
    const flushed = process.stdout.write(data, (error) => {
      if (error) resolve(false);
    });
    if (flushed) resolve(true);
    else process.stdout.once("drain", () => resolve(!stdoutClosed));
  });
}

let stdoutClosed = false;
process.stdout.on("error", (error: NodeJS.ErrnoException) => {
  // A reader such as `head` went away: not an error for a log pipe.
  if (error.code === "EPIPE") stdoutClosed = true;
  else throw error;
});
