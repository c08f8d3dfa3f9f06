/** Growable little-endian byte writer and its reader, for WAL records and block index files. */
const encoder = new TextEncoder();
const decoder = new TextDecoder();

export class ByteWriter {
  buf: Uint8Array;
  view: DataView;
  pos = 0;

  constructor(initial = 1024) {
    this.buf = new Uint8Array(initial);
    this.view = new DataView(this.buf.buffer);
  }

  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.pos + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.pos));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }

  u8(x: number): void {
    this.ensure(1);
    this.buf[this.pos++] = x;
  }

  u32(x: number): void {
    this.ensure(4);
    this.view.setUint32(this.pos, x, true);
    this.pos += 4;
  }

  f64(x: number): void {
    this.ensure(8);
    this.view.setFloat64(this.pos, x, true);
    this.pos += 8;
  }

  /** Unsigned varint of a safe integer. */
  uvarint(x: number): void {
    this.ensure(10);
    while (x >= 128) {
      this.buf[this.pos++] = (x % 128) | 128;
      x = Math.floor(x / 128);
    }
    this.buf[this.pos++] = x;
  }

  /** Signed (zigzag) varint of a safe integer. */
  varint(x: number): void {
    this.uvarint(x >= 0 ? x * 2 : -x * 2 - 1);
  }

  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }

  /** Length-prefixed UTF-8. */
  str(s: string): void {
    this.ensure(s.length * 3 + 10);
    const start = this.pos;
    // Reserve one varint byte; move the text if the length needs more.
    const r = encoder.encodeInto(s, this.buf.subarray(start + 1));
    const len = r.written;
    if (len < 128) {
      this.buf[start] = len;
      this.pos = start + 1 + len;
    } else {
      const text = this.buf.slice(start + 1, start + 1 + len);
      this.pos = start;
      this.uvarint(len);
      this.bytes(text);
    }
  }

  /** Aligns the position to a multiple of `n` (with zero bytes). */
  align(n: number): void {
    const pad = (n - (this.pos % n)) % n;
    this.ensure(pad);
    for (let i = 0; i < pad; i++) this.buf[this.pos++] = 0;
  }

  result(): Uint8Array {
    return this.buf.subarray(0, this.pos);
  }
}

export class CorruptError extends Error {}

export class ByteReader {
  pos = 0;
  readonly view: DataView;

  readonly buf: Uint8Array;

  constructor(buf: Uint8Array, pos = 0) {
    // A Buffer's slice() shares memory; view it as a plain Uint8Array so slice() copies.
    this.buf = plainBytes(buf);
    this.pos = pos;
    this.view = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  }

  get remaining(): number {
    return this.buf.length - this.pos;
  }

  private need(n: number): void {
    if (this.pos + n > this.buf.length) throw new CorruptError(`unexpected end of data at ${this.pos}`);
  }

  u8(): number {
    this.need(1);
    return this.buf[this.pos++]!;
  }

  u32(): number {
    this.need(4);
    const x = this.view.getUint32(this.pos, true);
    this.pos += 4;
    return x;
  }

  f64(): number {
    this.need(8);
    const x = this.view.getFloat64(this.pos, true);
    this.pos += 8;
    return x;
  }

  uvarint(): number {
    let x = 0;
    let mul = 1;
    for (let i = 0; i < 10; i++) {
      const b = this.u8();
      x += (b & 127) * mul;
      if (b < 128) return x;
      mul *= 128;
    }
    throw new CorruptError("varint too long");
  }

  varint(): number {
    const z = this.uvarint();
    return z % 2 === 0 ? z / 2 : -(z + 1) / 2;
  }

  bytes(n: number): Uint8Array {
    this.need(n);
    const b = this.buf.subarray(this.pos, this.pos + n);
    this.pos += n;
    return b;
  }

  str(): string {
    const n = this.uvarint();
    return decoder.decode(this.bytes(n));
  }

  align(n: number): void {
    this.pos += (n - (this.pos % n)) % n;
  }
}

export function plainBytes(b: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(b) === Uint8Array.prototype ? b : new Uint8Array(b.buffer, b.byteOffset, b.byteLength);
}

/** xxHash32 of a byte range: the checksum of WAL records and block files. */
export function checksum(b: Uint8Array): number {
  return Bun.hash.xxHash32(b) >>> 0;
}
