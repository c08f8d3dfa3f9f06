/** ULIDs name blocks: 48-bit millisecond time + 80 random bits, Crockford base32, sortable. */
const ALPHABET = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";

export function newULID(now = Date.now()): string {
  let time = "";
  let t = now;
  for (let i = 0; i < 10; i++) {
    time = ALPHABET[t % 32]! + time;
    t = Math.floor(t / 32);
  }
  const rnd = crypto.getRandomValues(new Uint8Array(16));
  let r = "";
  for (let i = 0; i < 16; i++) r += ALPHABET[rnd[i]! & 31];
  return time + r;
}

export function isULID(s: string): boolean {
  return /^[0-9A-HJKMNP-TV-Z]{26}$/.test(s);
}
