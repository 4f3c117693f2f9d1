import { once } from "node:events";
import { createServer, type Http2Server, type ServerHttp2Session } from "node:http2";
import type { AddressInfo } from "node:net";
import { Code, ConnectError, createClient, type Transport } from "@connectrpc/connect";
import {
  createEnvelopeReadableStream,
  type EnvelopedMessage,
  encodeEnvelopes,
  transformSplitEnvelope,
} from "@connectrpc/connect/protocol";
import {
  connectNodeAdapter,
  createConnectTransport,
  createGrpcTransport,
  createGrpcWebTransport,
} from "@connectrpc/connect-node";
import { JobService } from "@jobworker/proto";
import { afterEach, describe, expect, it } from "vitest";

/**
 * Pins what patches/@connectrpc__connect@2.3.0.patch (envelope.js,
 * async-iterable.js) and patches/@connectrpc__connect-node@2.3.0.patch
 * (node-universal-client.js) change on the reading side: the envelope decoder
 * keeps a count and hands out views, the splitter asks a source that offers
 * readChunks for whole envelopes, and the HTTP/2 response body is read from
 * "data" events. Every protocol and every message size must come out as sent.
 */
const READ_CHUNKS = Symbol.for("@connectrpc/connect/read-chunks");

/** Message bytes that tell their position: byte i of message n is (n * 31 + i) % 251. */
function message(n: number, length: number): Uint8Array {
  const data = new Uint8Array(length);
  for (let i = 0; i < length; i++) data[i] = (n * 31 + i) % 251;
  return data;
}

const SMALL_SIZES = [0, 1, 4, 5, 6, 300, 0, 2];
const small: EnvelopedMessage[] = SMALL_SIZES.map((size, n) => ({
  flags: n % 3 === 1 ? 2 : 0,
  data: message(n, size),
}));
const smallBytes = encodeEnvelopes(...small);

/** The byte stream cut at the given offsets. */
function cut(bytes: Uint8Array, at: number[]): Uint8Array[] {
  const bounds = [0, ...at, bytes.length];
  return bounds.slice(1).map((end, i) => bytes.subarray(bounds[i], end));
}

/** A plain async iterable of chunks: the splitter reads it with next(). */
async function* plainSource(chunks: Uint8Array[]): AsyncGenerator<Uint8Array> {
  yield* chunks;
}

/**
 * A source that offers readChunks, handing out `perCall` chunks a call (all
 * it has if Infinity) whatever the reader asked for, and noting what it asked for.
 */
function readChunksSource(chunks: Uint8Array[], perCall = 1, asked: number[] = []): AsyncIterable<Uint8Array> {
  const left = [...chunks];
  return {
    [Symbol.asyncIterator]() {
      return {
        async next(): Promise<IteratorResult<Uint8Array>> {
          throw new Error("a source with readChunks is read with readChunks");
        },
        async [READ_CHUNKS](minBytes: number) {
          asked.push(minBytes);
          const value = left.splice(0, perCall);
          return { done: left.length === 0, value };
        },
      } as AsyncIterator<Uint8Array>;
    },
  };
}

async function split(source: AsyncIterable<Uint8Array>, readMaxBytes = 2 ** 32 - 1): Promise<EnvelopedMessage[]> {
  const out: EnvelopedMessage[] = [];
  for await (const env of transformSplitEnvelope(readMaxBytes)(source)) out.push(env);
  return out;
}

function expectSame(got: EnvelopedMessage[], want: EnvelopedMessage[]): void {
  expect(got.map((e) => e.flags)).toEqual(want.map((e) => e.flags));
  expect(got.map((e) => Buffer.from(e.data).toString("hex"))).toEqual(
    want.map((e) => Buffer.from(e.data).toString("hex")),
  );
}

describe("splitting enveloped messages", () => {
  it("gives every message as sent wherever one cut falls, from either kind of source", async () => {
    for (let at = 0; at <= smallBytes.length; at++) {
      const chunks = cut(smallBytes, [at]);
      expectSame(await split(plainSource(chunks)), small);
      expectSame(await split(readChunksSource(chunks)), small);
    }
  });

  it("gives every message as sent wherever two cuts fall", async () => {
    for (let a = 0; a <= smallBytes.length; a++) {
      for (let b = a; b <= smallBytes.length; b++) {
        expectSame(await split(readChunksSource(cut(smallBytes, [a, b]), 2)), small);
      }
    }
  });

  it("gives every message as sent from one byte per chunk and from all of them in one chunk", async () => {
    const bytewise = Array.from(smallBytes, (_, i) => smallBytes.subarray(i, i + 1));
    expectSame(await split(plainSource(bytewise)), small);
    expectSame(await split(readChunksSource(bytewise, 7)), small);
    expectSame(await split(plainSource([smallBytes])), small);
    expectSame(await split(readChunksSource([smallBytes], Number.POSITIVE_INFINITY)), small);
  });

  it("puts together large messages cut into DATA-frame-sized pieces, and cut across their headers", async () => {
    const large: EnvelopedMessage[] = [
      { flags: 0, data: message(1, 262_144) },
      { flags: 0, data: message(2, 70_001) },
      { flags: 0, data: message(3, 16_384) },
    ];
    const bytes = encodeEnvelopes(...large);
    const frames: number[] = [];
    for (let at = 16_384; at < bytes.length; at += 16_384) frames.push(at);
    expectSame(await split(plainSource(cut(bytes, frames))), large);
    // Cuts inside each header (the first message's 5 bytes end at 5, the second's at 262_154).
    for (const at of [1, 4, 5, 6, 262_149, 262_150, 262_153, 262_154, 262_155]) {
      expectSame(await split(readChunksSource(cut(bytes, [at]))), large);
    }
  });

  it("asks a readChunks source for exactly what the next envelope still lacks", async () => {
    const bytes = encodeEnvelopes({ flags: 0, data: message(0, 300) }, { flags: 0, data: message(1, 10) });
    const asked: number[] = [];
    const got = await split(readChunksSource(cut(bytes, [3, 5, 105, 305, 307]), 1, asked));
    expectSame(got, [
      { flags: 0, data: message(0, 300) },
      { flags: 0, data: message(1, 10) },
    ]);
    // Nothing yet: a header (5); 3 bytes of it: 2 more; the header: its 300; 100 of them: 200;
    // then the next header (5), of which 2 came: 3.
    expect(asked).toEqual([5, 2, 300, 200, 5, 3]);
  });

  it("hands out a message that lies in one chunk as a view of it, and copies one that does not", async () => {
    const [first, second] = await split(plainSource([smallBytes]));
    expect(first?.data.buffer).toBe(smallBytes.buffer);
    expect(second?.data.buffer).toBe(smallBytes.buffer);
    const pieced = await split(plainSource(cut(smallBytes, [8])));
    // The second message (1 byte at offset 10) lies wholly in the second chunk; the first (empty) is whole too.
    expect(pieced[1]?.data.buffer).toBe(smallBytes.buffer);
  });

  it("reports a stream that ends inside an envelope, a bare header included", async () => {
    const one = encodeEnvelopes({ flags: 0, data: message(0, 10) });
    for (const end of [1, 4, 5, 6, 14]) {
      for (const source of [plainSource([one.subarray(0, end)]), readChunksSource([one.subarray(0, end)])]) {
        const error = await split(source).catch((e: unknown) => e);
        expect(error).toBeInstanceOf(ConnectError);
        expect((error as ConnectError).code).toBe(Code.InvalidArgument);
        expect((error as ConnectError).rawMessage).toBe("protocol error: incomplete envelope");
      }
    }
  });

  it("refuses a message larger than readMaxBytes from its header alone", async () => {
    const header = encodeEnvelopes({ flags: 0, data: message(0, 1000) }).subarray(0, 5);
    const error = await split(readChunksSource([header]), 999).catch((e: unknown) => e);
    expect(ConnectError.from(error).code).toBe(Code.ResourceExhausted);
  });

  it("splits the same way through the WHATWG stream that connect-web reads", async () => {
    for (const at of [0, 1, 5, 9, 10, 11, 20, smallBytes.length]) {
      const chunks = cut(smallBytes, [at]);
      const bytes = new ReadableStream<Uint8Array>({
        start(controller) {
          for (const chunk of chunks) controller.enqueue(chunk);
          controller.close();
        },
      });
      const out: EnvelopedMessage[] = [];
      const reader = createEnvelopeReadableStream(bytes).getReader();
      for (let r = await reader.read(); !r.done; r = await reader.read()) out.push(r.value);
      expectSame(out, small);
    }
  });
});

describe("a server stream over Node's HTTP/2 client", () => {
  const servers: Http2Server[] = [];
  const sessions: ServerHttp2Session[] = [];
  afterEach(async () => {
    // The clients keep their connections open: end them from the server's side.
    for (const session of sessions.splice(0)) session.destroy();
    for (const server of servers.splice(0)) {
      server.close();
      await once(server, "close");
    }
  });

  /** Sizes around one DATA frame, one high-water mark (1 MiB) and several of them. */
  const SIZES = [0, 1, 16_383, 16_384, 16_389, 262_144, 2 ** 20 - 5, 2 ** 20 + 1, 3 * 2 ** 20 + 7, 10];

  /** A plaintext HTTP/2 server answering StreamOutput with SIZES (then `failWith`, if given). */
  async function serve(failWith?: ConnectError): Promise<string> {
    const server = createServer(
      connectNodeAdapter({
        routes(router) {
          router.service(JobService, {
            async *streamOutput() {
              for (const [n, size] of SIZES.entries()) yield { offset: BigInt(n), data: message(n, size) };
              if (failWith) throw failWith;
            },
          });
        },
      }),
    );
    servers.push(server);
    server.on("session", (session: ServerHttp2Session) => sessions.push(session));
    server.listen(0, "127.0.0.1");
    await once(server, "listening");
    return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  }

  const protocols: [string, (baseUrl: string) => Transport][] = [
    ["gRPC", (baseUrl) => createGrpcTransport({ baseUrl })],
    ["Connect", (baseUrl) => createConnectTransport({ baseUrl, httpVersion: "2" })],
    ["gRPC-Web", (baseUrl) => createGrpcWebTransport({ baseUrl, httpVersion: "2" })],
  ];

  for (const [name, transport] of protocols) {
    it(`gives every message as sent over ${name}`, async () => {
      const client = createClient(JobService, transport(await serve()));
      const got: { offset: bigint; data: Uint8Array }[] = [];
      for await (const res of client.streamOutput({ id: "x" })) got.push(res);
      expect(got.map((r) => r.offset)).toEqual(SIZES.map((_, n) => BigInt(n)));
      for (const [n, size] of SIZES.entries()) {
        expect(Buffer.from(got[n]?.data ?? []).equals(Buffer.from(message(n, size)))).toBe(true);
      }
    });

    it(`gives the server's error after the messages over ${name}`, async () => {
      const client = createClient(JobService, transport(await serve(new ConnectError("gone", Code.NotFound))));
      let count = 0;
      const error = await (async () => {
        for await (const _ of client.streamOutput({ id: "x" })) count++;
      })().catch((e: unknown) => e);
      expect(count).toBe(SIZES.length);
      expect(ConnectError.from(error).code).toBe(Code.NotFound);
    });

    it(`stops the call when the reader leaves early over ${name}, and reads the next call whole`, async () => {
      const client = createClient(JobService, transport(await serve()));
      for await (const res of client.streamOutput({ id: "x" })) {
        if (res.offset === 3n) break;
      }
      let count = 0;
      for await (const _ of client.streamOutput({ id: "x" })) count++;
      expect(count).toBe(SIZES.length);
    });
  }

  it("ends a read that waits for a large message when the call is aborted", async () => {
    const client = createClient(JobService, createGrpcTransport({ baseUrl: await serve() }));
    const abort = new AbortController();
    const error = await (async () => {
      for await (const res of client.streamOutput({ id: "x" }, { signal: abort.signal })) {
        // The next message (16_384 bytes, then larger) is being waited for when the abort comes.
        if (res.offset === 2n) abort.abort();
      }
    })().catch((e: unknown) => e);
    expect(ConnectError.from(error).code).toBe(Code.Canceled);
  });
});
