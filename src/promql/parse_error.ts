/**
 * Parse errors shaped like Prometheus's: `<line>:<col>: parse error: <what>`, where line and
 * column are 1-based and, as in Prometheus, counted in UTF-8 bytes of the query.
 */
import type { PosRange } from "./ast.ts";

export class ParseError extends Error {
  /** The offending text range of the query (UTF-16 indices into the query string). */
  readonly positionRange: PosRange;
  /** The bare reason, without the position prefix. */
  readonly reason: string;
  readonly query: string;

  constructor(query: string, positionRange: PosRange, reason: string) {
    super(`${positionString(query, positionRange.start)}: parse error: ${reason}`);
    this.name = "ParseError";
    this.query = query;
    this.positionRange = positionRange;
    this.reason = reason;
  }
}

/**
 * `line:col` of a position (a UTF-16 index) in the query, 1-based, with the column counted in
 * UTF-8 bytes from the start of the line as Prometheus does. Used for errors and annotations.
 */
export function positionString(query: string, pos: number): string {
  if (query === "") return "unknown position";
  if (pos < 0 || pos > query.length) return "invalid position";
  const before = query.slice(0, pos);
  const lastBreak = before.lastIndexOf("\n");
  let line = 1;
  for (let i = before.indexOf("\n"); i !== -1; i = before.indexOf("\n", i + 1)) line++;
  const col = utf8Length(before.slice(lastBreak + 1)) + 1;
  return `${line}:${col}`;
}

function utf8Length(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff && i + 1 < s.length) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}
