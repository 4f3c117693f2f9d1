/** C0 and C1 control characters and DEL: a job's name could carry escape sequences that rewrite a terminal. */
const CONTROL = /[\u0000-\u001f\u007f-\u009f]/g;

/** True when `text` holds a character a terminal would act on rather than print. */
export function hasControl(text: string): boolean {
  return /[\u0000-\u001f\u007f-\u009f]/.test(text);
}

/** `text` with every control character written as an escape (`\e`, `\n`, `\x07`), for text output. */
export function terminalSafe(text: string): string {
  return text.replace(CONTROL, (char) => {
    const named: Record<string, string> = { "\u001b": "\\e", "\n": "\\n", "\r": "\\r", "\t": "\\t" };
    return named[char] ?? `\\x${char.charCodeAt(0).toString(16).padStart(2, "0")}`;
  });
}
