/** C0 and C1 control characters and DEL: a job's name could carry escape sequences that rewrite a terminal. */
export function isControl(char: string): boolean {
  const code = char.charCodeAt(0);
  return code < 0x20 || (code >= 0x7f && code <= 0x9f);
}

/** True when `text` holds a character a terminal would act on rather than print. */
export function hasControl(text: string): boolean {
  return [...text].some(isControl);
}

const NAMED: Readonly<Record<string, string>> = { "\u001b": "\\e", "\n": "\\n", "\r": "\\r", "\t": "\\t" };

/** `text` with every control character written as an escape (`\e`, `\n`, `\x07`), for text output. */
export function terminalSafe(text: string): string {
  if (!hasControl(text)) return text;
  return [...text]
    .map((char) => (isControl(char) ? (NAMED[char] ?? `\\x${char.charCodeAt(0).toString(16).padStart(2, "0")}`) : char))
    .join("");
}
