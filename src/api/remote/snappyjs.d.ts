declare module "snappyjs" {
  /** Snappy block format. Throws on an invalid stream or when the length exceeds maxLength. */
  export function uncompress(compressed: Uint8Array, maxLength?: number): Uint8Array;
  export function compress(uncompressed: Uint8Array): Uint8Array;
}
