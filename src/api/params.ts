/**
 * Request parameters as Prometheus reads them: form values from the URL query and, for POST, an
 * urlencoded body (body values first, as Go's Request.Form), times as RFC 3339 or Unix seconds,
 * durations as Prometheus durations or float seconds. Error messages match Prometheus's.
 *
 * Values are decoded to text keeping bytes that are not UTF-8 (as lone surrogates, see
 * decodeUtf8Escaped) instead of replacing them with U+FFFD: Go keeps the bytes, so Prometheus's
 * parsers see them and answer 400 (`invalid UTF-8 rune`); a replacement character would slip
 * through as valid text.
 */
import type { Context } from "hono";
import { decodeUtf8Escaped, parseDuration } from "../model/index.ts";
import { badData } from "./respond.ts";

export class Form {
  constructor(private readonly values: Map<string, string[]>) {}

  /** The first value, or "" (Go's FormValue). */
  get(name: string): string {
    return this.values.get(name)?.[0] ?? "";
  }

  all(name: string): string[] {
    return this.values.get(name) ?? [];
  }

  has(name: string): boolean {
    return this.values.has(name);
  }
}

export async function readForm(c: Context): Promise<Form> {
  const values = new Map<string, string[]>();
  const add = (k: string, v: string) => {
    const l = values.get(k);
    if (l) l.push(v);
    else values.set(k, [v]);
  };
  const method = c.req.method;
  if (method === "POST" || method === "PUT") {
    const ct = c.req.header("content-type") ?? "";
    if (ct.startsWith("application/x-www-form-urlencoded")) {
      parseUrlEncoded(new Uint8Array(await c.req.arrayBuffer()), add);
    } else if (ct.startsWith("multipart/form-data")) {
      const fd = await c.req.formData();
      fd.forEach((v, k) => {
        if (typeof v === "string") add(k, v);
      });
    }
  }
  const url = c.req.url;
  const q = url.indexOf("?");
  // The URL's query is ASCII: anything else arrives percent-encoded.
  if (q >= 0) parseUrlEncoded(asciiBytes(url, q + 1, hashAt(url, q)), add);
  return new Form(values);
}

function hashAt(url: string, from: number): number {
  const h = url.indexOf("#", from);
  return h < 0 ? url.length : h;
}

function asciiBytes(s: string, from: number, to: number): Uint8Array {
  const out = new Uint8Array(to - from);
  for (let i = from; i < to; i++) out[i - from] = s.charCodeAt(i) & 0xff;
  return out;
}

function hexDigit(c: number): number {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 65 && c <= 70) return c - 55;
  if (c >= 97 && c <= 102) return c - 87;
  return -1;
}

/**
 * application/x-www-form-urlencoded as URLSearchParams reads it (pairs split on `&`, `+` is a
 * space, a `%` not followed by two hex digits stays as it is), except that the percent-decoded
 * bytes are decoded with decodeUtf8Escaped.
 */
export function parseUrlEncoded(b: Uint8Array, add: (name: string, value: string) => void): void {
  const buf = new Uint8Array(b.length);
  const decode = (from: number, to: number): string => {
    let n = 0;
    for (let i = from; i < to; i++) {
      const c = b[i]!;
      if (c === 43 /* + */) buf[n++] = 32;
      else if (c === 37 /* % */ && i + 2 < to && hexDigit(b[i + 1]!) >= 0 && hexDigit(b[i + 2]!) >= 0) {
        buf[n++] = hexDigit(b[i + 1]!) * 16 + hexDigit(b[i + 2]!);
        i += 2;
      } else buf[n++] = c;
    }
    return decodeUtf8Escaped(buf.subarray(0, n));
  };
  for (let start = 0; start < b.length; ) {
    let end = b.indexOf(38 /* & */, start);
    if (end < 0) end = b.length;
    if (end > start) {
      let eq = b.indexOf(61 /* = */, start);
      if (eq < 0 || eq > end) eq = end;
      add(decode(start, eq), eq < end ? decode(eq + 1, end) : "");
    }
    start = end + 1;
  }
}

const FLOAT_RE = /^[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?$/;
const RFC3339_RE = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(?:\.\d+)?(?:[Zz]|[+-]\d{2}:\d{2})$/;

/** The bounds Prometheus uses for an absent start/end (its minTime/maxTime), in ms. */
export const MIN_TIME_MS = -9223372036854776;
export const MAX_TIME_MS = 9223372036854776;
const MIN_TIME_TEXT = "-292273086-05-16T16:47:06Z";
const MAX_TIME_TEXT = "292277025-08-18T07:12:54.999999999Z";

/** Parses a timestamp to ms; throws Prometheus's `cannot parse "x" to a valid timestamp`. */
export function parseTimeMs(text: string): number {
  if (FLOAT_RE.test(text)) {
    const f = Number(text);
    const sec = Math.trunc(f);
    const ms = sec * 1000 + Math.round((f - sec) * 1000);
    if (Number.isFinite(ms)) return ms;
  }
  if (RFC3339_RE.test(text)) {
    const ms = Date.parse(text);
    if (!Number.isNaN(ms)) return ms;
  }
  if (text === MIN_TIME_TEXT) return MIN_TIME_MS;
  if (text === MAX_TIME_TEXT) return MAX_TIME_MS;
  throw new Error(`cannot parse ${JSON.stringify(text)} to a valid timestamp`);
}

/** Parses float seconds or a Prometheus duration to ms, as Prometheus's API reads `step` and `timeout`. */
export function parseDurationMs(text: string): number {
  if (FLOAT_RE.test(text)) {
    const ms = Number(text) * 1000;
    if (Math.abs(ms) > 9.223372036854776e15) throw new Error(`cannot parse ${JSON.stringify(text)} to a valid duration. It overflows int64`);
    return ms;
  }
  try {
    return parseDuration(text);
  } catch {
    // Prometheus words this one error the same whatever the duration parser disliked.
  }
  throw new Error(`cannot parse ${JSON.stringify(text)} to a valid duration`);
}

/** Prometheus's `invalid parameter "name": cause` error. */
export function invalidParam(name: string, err: unknown) {
  return badData(`invalid parameter ${JSON.stringify(name)}: ${err instanceof Error ? err.message : String(err)}`);
}

export function timeParam(form: Form, name: string, dflt: number): number {
  const v = form.get(name);
  if (v === "") return dflt;
  try {
    return parseTimeMs(v);
  } catch (e) {
    throw invalidParam(name, `Invalid time value for '${name}': ${(e as Error).message}`);
  }
}

/** The `limit` parameter: a non-negative integer, 0 meaning no limit. */
export function limitParam(form: Form): number {
  const s = form.get("limit");
  if (s === "") return 0;
  const n = Number(s);
  if (!/^[+-]?\d+$/.test(s) || !Number.isSafeInteger(n)) {
    throw invalidParam("limit", `strconv.Atoi: parsing ${JSON.stringify(s)}: invalid syntax`);
  }
  if (n < 0) throw invalidParam("limit", "limit must be non-negative");
  return n;
}
