/**
 * The `Headers` class Connect needs, without undici. Node's `Headers` global
 * is a lazy getter that loads all of undici (fetch, web streams, worker
 * threads): about a quarter of a `runjob status` call's CPU time, though
 * Connect only keeps a few metadata entries in it. bundle.mjs and
 * sea/build.mjs put this class wherever the bundled code names the global
 * `Headers` (esbuild's inject, headers-inject.ts); the global itself is left
 * alone, since even redefining it makes Node load undici. This class has the
 * semantics Connect relies on (case-insensitive names, values joined with
 * ", ", iteration in sorted name order, `set-cookie` kept apart) and no
 * validation beyond lowercasing names and trimming values.
 */
/** What a `Headers` is made from: pairs, another Headers, or a record. */
export type MinimalHeadersInit = Iterable<readonly string[]> | Record<string, string>;

export class MinimalHeaders {
  readonly #entries = new Map<string, string[]>();

  constructor(init?: MinimalHeadersInit | null) {
    if (init === undefined || init === null) return;
    if (typeof init !== "object") throw new TypeError("Headers: init must be an object, pairs or Headers");
    if (Symbol.iterator in init) {
      for (const pair of init as Iterable<readonly string[]>) {
        if (pair.length !== 2) throw new TypeError("Headers: each header must be a [name, value] pair");
        this.append(String(pair[0]), String(pair[1]));
      }
    } else {
      for (const [name, value] of Object.entries(init)) this.append(name, String(value));
    }
  }

  append(name: string, value: string): void {
    const key = name.toLowerCase();
    const trimmed = String(value).trim();
    const values = this.#entries.get(key);
    if (values) values.push(trimmed);
    else this.#entries.set(key, [trimmed]);
  }

  delete(name: string): void {
    this.#entries.delete(name.toLowerCase());
  }

  get(name: string): string | null {
    return this.#entries.get(name.toLowerCase())?.join(", ") ?? null;
  }

  getSetCookie(): string[] {
    return [...(this.#entries.get("set-cookie") ?? [])];
  }

  has(name: string): boolean {
    return this.#entries.has(name.toLowerCase());
  }

  set(name: string, value: string): void {
    this.#entries.set(name.toLowerCase(), [String(value).trim()]);
  }

  forEach(callback: (value: string, key: string, parent: MinimalHeaders) => void, thisArg?: unknown): void {
    for (const [key, value] of this) callback.call(thisArg, value, key, this);
  }

  *entries(): IterableIterator<[string, string]> {
    for (const key of [...this.#entries.keys()].sort()) {
      const values = this.#entries.get(key) ?? [];
      if (key === "set-cookie") for (const value of values) yield [key, value];
      else yield [key, values.join(", ")];
    }
  }

  *keys(): IterableIterator<string> {
    for (const [key] of this.entries()) yield key;
  }

  *values(): IterableIterator<string> {
    for (const [, value] of this.entries()) yield value;
  }

  [Symbol.iterator](): IterableIterator<[string, string]> {
    return this.entries();
  }

  get [Symbol.toStringTag](): string {
    return "Headers";
  }
}
