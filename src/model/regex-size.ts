/**
 * What a regex will cost before the engine sees it. re2js compiles and matches synchronously on
 * the only JS thread, so a pattern whose program is huge, or whose match keeps thousands of
 * threads alive at every step, would hold the event loop for seconds to minutes. This reads the
 * pattern's structure once (a lenient RE2 parse: anything it does not understand counts as one
 * character, and real syntax errors are left for the engine to report) and returns two numbers:
 *
 *   - size: the compiled program's instruction count as Go's regexp/syntax estimates it
 *     (checkSize/calcSize): a literal is one per rune, `x*` and a capture add two, `x+` and `x?`
 *     one, an alternation one per `|`, and `x{n,m}` is m copies of x plus (m-n). It bounds the
 *     time to compile.
 *   - width: an upper bound on how many instructions can be live at one position of the value.
 *     Matching costs about width × value length (the NFA steps every live thread per character;
 *     the DFA builds states of that size), so a long literal or `[a-z]{1000}` is narrow (one
 *     live position at a time), while `(?:.?){1000}` or `(?:.*x){1000}` is as wide as it is large.
 *
 * Width rests on the lengths of what a sub-pattern can match: after x of fixed length, y starts
 * at one offset and x and y are never live together; after x whose length can vary by d, y can
 * have started at d+1 offsets at once, each with its own live threads.
 */

/** Go's limit on a single counted repeat, and on the product of nested ones. */
const MAX_REPEAT = 1000;

export interface RegexCost {
  /** Go's estimate of the compiled program's instruction count. */
  readonly size: number;
  /**
   * How many of those instructions test a Unicode class (`\pL`, `[\p{Greek}é]`): each holds
   * hundreds of ranges, and the engine compiles and first matches them several times slower.
   */
  readonly unicodeClasses: number;
  /** Capture groups: finding them (label_replace, relabeling) makes each live thread dearer. */
  readonly captures: number;
  /** An upper bound on the instructions live at one position of the value. */
  readonly width: number;
}

/** A sub-pattern's summary; `max` is Infinity when unbounded. */
interface Part {
  size: number;
  /** Live instructions at one position when the part was entered at one offset. */
  width: number;
  /** The same when it was entered at any number of offsets (at most size). */
  spreadWidth: number;
  /** Instructions that test a Unicode class; they multiply under repeats as size does. */
  unicode: number;
  min: number;
  max: number;
  /** The largest product of counted repeats along one nesting path inside (Go's repeatIsValid). */
  repeats: number;
}

const EMPTY: Part = { size: 0, width: 0, spreadWidth: 0, unicode: 0, min: 0, max: 0, repeats: 1 };
const ONE_CHAR: Part = { size: 1, width: 1, spreadWidth: 1, unicode: 0, min: 1, max: 1, repeats: 1 };
const UNICODE_CLASS: Part = { ...ONE_CHAR, unicode: 1 };
const ASSERTION: Part = { size: 1, width: 0, spreadWidth: 0, unicode: 0, min: 0, max: 0, repeats: 1 };

/**
 * A run of literal characters, compared as `key` gives them. Entered at many offsets, the
 * positions live together are prefixes of the run that all end where the value has been read
 * to, so each is a border of the longest one: at most the longest chain of borders (2 for a
 * name like `node-01`, all of it for `aaaa`).
 */
function literalRun(chars: readonly string[]): Part {
  const n = chars.length;
  // fail[k]: the longest proper border of the first k characters.
  const fail = new Int32Array(n + 1);
  for (let k = 1, f = 0; k < n; k++) {
    while (f > 0 && chars[k] !== chars[f]) f = fail[f]!;
    if (chars[k] === chars[f]) f++;
    fail[k + 1] = f;
  }
  // chain[k]: how many positions can be live with k characters matched at the deepest.
  const chain = new Int32Array(n);
  let longest = 0;
  for (let k = 0; k < n; k++) {
    chain[k] = k === 0 ? 1 : 1 + chain[fail[k]!]!;
    if (chain[k]! > longest) longest = chain[k]!;
  }
  return { size: n, width: Math.min(n, 1), spreadWidth: longest, unicode: 0, min: n, max: n, repeats: 1 };
}

/** How many different offsets what follows `p` can start at (Infinity when unbounded). */
function spread(p: Part): number {
  return p.max - p.min + 1;
}

/** `width` live instructions at each of `offsets` start offsets, at most `cap` in all. */
function entered(width: number, offsets: number, cap: number): number {
  return width === 0 ? 0 : Math.min(cap, width * offsets);
}

function concat(a: Part, b: Part): Part {
  const s = spread(a);
  // After a fixed-length a, b starts when a has ended: never live together.
  const width = s === 1 ? Math.max(a.width, b.width) : a.width + entered(b.width, s, b.spreadWidth);
  const size = a.size + b.size;
  return {
    size,
    width: Math.min(width, size),
    spreadWidth: Math.min(a.spreadWidth + b.spreadWidth, size),
    unicode: a.unicode + b.unicode,
    min: a.min + b.min,
    max: a.max + b.max,
    repeats: Math.max(a.repeats, b.repeats),
  };
}

/** `x` concatenated `k` times, in closed form (k is at most 1000, but repeats nest). */
function power(x: Part, k: number): Part {
  if (k === 0) return EMPTY;
  const d = x.max - x.min;
  const size = x.size * k;
  let width: number;
  if (d === 0 || x.width === 0) {
    width = x.width;
  } else if (d === Infinity) {
    width = x.width + (k - 1) * x.spreadWidth;
  } else {
    // Copy j+1 can start at j·d+1 offsets: it adds min(spreadWidth, width·(j·d+1)) live ones.
    const firstFull = Math.max(1, Math.ceil((x.spreadWidth / x.width - 1) / d));
    const partial = Math.min(k - 1, firstFull - 1);
    width = x.width + x.width * (d * ((partial * (partial + 1)) / 2) + partial) + (k - 1 - partial) * x.spreadWidth;
  }
  return {
    size,
    width: Math.min(width, size),
    spreadWidth: Math.min(x.spreadWidth * k, size),
    unicode: x.unicode * k,
    min: x.min * k,
    max: x.max * k,
    repeats: x.repeats,
  };
}

/** `x*`, `x+`, `x?` and `x{n,m}` (m = -1 for no upper bound), sized as Go sizes them. */
function repeat(x: Part, min: number, max: number): Part {
  if (max === -1) {
    // Iterations of a fixed-length x start at offsets that fix the position inside x; otherwise
    // they overlap as if x were entered at many offsets.
    const loop: Part = {
      size: (min === 0 ? 2 : 1) + x.size,
      width: x.min === x.max ? x.width : x.spreadWidth,
      spreadWidth: x.spreadWidth,
      unicode: x.unicode,
      min: min === 0 ? 0 : x.min,
      max: x.max === 0 ? 0 : Infinity,
      repeats: x.repeats,
    };
    if (min <= 1) return loop;
    return { ...concat(power(x, min - 1), loop), size: 1 + min * x.size, unicode: min * x.unicode, repeats: x.repeats * min };
  }
  const optional: Part = { ...x, size: 1 + x.size, min: 0 };
  if (max === 1 && min === 0) return optional;
  // x{n,m} is n copies of x then m-n nested optional ones, `(x(x)?)?`. For a fixed-length x
  // only one copy is live at a time; otherwise `x?x?`, which reaches every offset the nested
  // form does, bounds the width.
  const tail = x.min === x.max ? { ...power(optional, max - min), width: x.width } : power(optional, max - min);
  const r = concat(power(x, min), tail);
  return { ...r, size: max * x.size + (max - min), unicode: max * x.unicode, repeats: x.repeats * Math.max(max, 1) };
}

function alternate(alts: readonly Part[]): Part {
  if (alts.length === 1) return alts[0]!;
  const r: Part = { size: alts.length - 1, width: 0, spreadWidth: 0, unicode: 0, min: Infinity, max: 0, repeats: 1 };
  for (const a of alts) {
    r.size += Math.max(1, a.size);
    r.unicode += a.unicode;
    r.width += a.width;
    r.spreadWidth += a.spreadWidth;
    r.min = Math.min(r.min, a.min);
    r.max = Math.max(r.max, a.max);
    r.repeats = Math.max(r.repeats, a.repeats);
  }
  r.width = Math.min(r.width, r.size);
  r.spreadWidth = Math.min(r.spreadWidth, r.size);
  return r;
}

/**
 * An alternation of literal strings, as the engine factors it: consecutive alternatives that
 * share a first character share its instruction, so the program is a trie (a partial one when
 * the list is not sorted). Entered at one offset, the live instructions at a step are one
 * node's children; entered at many, one node per depth at most (the one spelling what was
 * just read), so the sum over depths of the widest node.
 */
function literalAlternation(branches: readonly (readonly string[])[]): Part {
  let size = branches.length - 1;
  let min = Infinity;
  let max = 0;
  for (const b of branches) {
    size += Math.max(1, b.length);
    min = Math.min(min, b.length);
    max = Math.max(max, b.length);
  }
  // Children (live instructions) per node of the true trie, which merges equal prefixes.
  const ids = new Map<string, number>();
  const children: number[] = [0];
  const depthOf: number[] = [0];
  const tasks: { items: number[]; depth: number; node: number }[] = [{ items: branches.map((_, i) => i), depth: 0, node: 0 }];
  for (let task = tasks.pop(); task !== undefined; task = tasks.pop()) {
    const { items, depth, node } = task;
    let group: number[] = [];
    let key: string | undefined;
    const close = () => {
      if (key === undefined || group.length === 0) return;
      const idKey = `${node}\u0000${key}`;
      let child = ids.get(idKey);
      if (child === undefined) {
        child = children.length;
        ids.set(idKey, child);
        children.push(0);
        depthOf.push(depth + 1);
      }
      children[node]!++;
      tasks.push({ items: group, depth: depth + 1, node: child });
    };
    for (const i of items) {
      const k = branches[i]![depth];
      if (k !== key || k === undefined) {
        close();
        group = [];
        key = k;
      }
      if (k !== undefined) group.push(i);
    }
    close();
  }
  let width = 0;
  const widest: number[] = [];
  for (let id = 0; id < children.length; id++) {
    const c = children[id]!;
    width = Math.max(width, c);
    widest[depthOf[id]!] = Math.max(widest[depthOf[id]!] ?? 0, c);
  }
  let spreadWidth = 0;
  for (const w of widest) spreadWidth += w ?? 0;
  return { size, width: Math.min(width, size), spreadWidth: Math.min(spreadWidth, size), unicode: 0, min, max, repeats: 1 };
}

/**
 * An open group: its alternatives so far and the concatenation being built, which ends in
 * either a run of literal characters or one other atom (what a following `*` applies to).
 */
interface Frame {
  alts: Part[];
  /** The alternatives' texts while every one is a plain literal; null once one is not. */
  literalAlts: string[][] | null;
  cat: Part;
  run: string[];
  last: Part | null;
  capture: boolean;
}

function newFrame(capture: boolean): Frame {
  return { alts: [], literalAlts: [], cat: EMPTY, run: [], last: null, capture };
}

function flush(f: Frame): void {
  if (f.run.length > 0) f.cat = concat(f.cat, literalRun(f.run));
  f.run = [];
  if (f.last !== null) f.cat = concat(f.cat, f.last);
  f.last = null;
}

/** Ends the current alternative. */
function closeConcat(f: Frame): void {
  if (f.literalAlts !== null) {
    if (f.cat === EMPTY && f.last === null) f.literalAlts.push(f.run);
    else f.literalAlts = null;
  }
  flush(f);
  f.alts.push(f.cat);
  f.cat = EMPTY;
}

function closeFrame(f: Frame): Part {
  closeConcat(f);
  const p = f.literalAlts !== null && f.alts.length > 1 ? literalAlternation(f.literalAlts) : alternate(f.alts);
  return f.capture ? { ...p, size: p.size + 2 } : p;
}

function pushAtom(f: Frame, p: Part): void {
  flush(f);
  f.last = p;
}

function pushChar(f: Frame, key: string): void {
  if (f.last !== null) flush(f);
  f.run.push(key);
}

/** The atom a repetition operator applies to, taken off the frame; null when there is none. */
function takeLast(f: Frame): Part | null {
  if (f.last !== null) {
    const p = f.last;
    f.last = null;
    return p;
  }
  if (f.run.length === 0) return null;
  f.run.pop();
  flush(f);
  return ONE_CHAR;
}

/** `{n}`, `{n,}` or `{n,m}` at `i`, or null when the text there is a literal `{`. */
function countedRepeat(s: string, i: number): { min: number; max: number; end: number } | null {
  const m = /^\{(\d+)(,(\d*))?\}/.exec(s.slice(i, i + 24));
  if (m === null) return null;
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : m[3] === "" ? -1 : Number(m[3]);
  return { min, max, end: i + m[0].length };
}

/** Where an escape starting at `i` (the backslash) ends, and whether it matches a character. */
function escape(s: string, i: number): { end: number; consumes: boolean } {
  const c = s[i + 1];
  if (c === undefined) return { end: i + 1, consumes: true };
  if (c === "b" || c === "B" || c === "A" || c === "z") return { end: i + 2, consumes: false };
  if ((c === "p" || c === "P" || c === "x") && s[i + 2] === "{") {
    const close = s.indexOf("}", i + 3);
    return { end: close < 0 ? s.length : close + 1, consumes: true };
  }
  if (c === "p" || c === "P") return { end: Math.min(s.length, i + 3 + (s.codePointAt(i + 2)! > 0xffff ? 1 : 0)), consumes: true };
  if (c === "x") return { end: Math.min(s.length, i + 4), consumes: true };
  if (c >= "0" && c <= "7") {
    let j = i + 2;
    while (j < i + 4 && j < s.length && s[j]! >= "0" && s[j]! <= "7") j++;
    return { end: j, consumes: true };
  }
  return { end: i + 1 + (s.codePointAt(i + 1)! > 0xffff ? 2 : 1), consumes: true };
}

/** Where the character class opening at `i` ends (just past its `]`). */
function classEnd(s: string, i: number): number {
  let j = i + 1;
  if (s[j] === "^") j++;
  if (s[j] === "]") j++;
  while (j < s.length && s[j] !== "]") {
    if (s[j] === "\\") j = escape(s, j).end;
    else if (s.startsWith("[:", j)) {
      const close = s.indexOf(":]", j + 2);
      j = close < 0 ? j + 1 : close + 2;
    } else j++;
  }
  return Math.min(s.length, j + 1);
}

/** The cost of compiling and running `pattern` (read as RE2 syntax; see the module comment). */
export function regexCost(pattern: string): RegexCost & { readonly invalidRepeat: boolean; readonly unbalanced: boolean } {
  const s = pattern;
  const stack: Frame[] = [newFrame(false)];
  let invalidRepeat = false;
  let unbalanced = false;
  let captures = 0;
  let i = 0;
  const top = () => stack[stack.length - 1]!;
  // Case folding makes letters equal that differ: ASCII ones are then compared lowercased, and
  // other characters, whose folds are many, count as classes.
  const mayFold = /\(\?[imsU-]*i/.test(s);
  const literal = (ch: string) => {
    if (!mayFold) pushChar(top(), ch);
    else if (ch.charCodeAt(0) < 0x80) pushChar(top(), ch.toLowerCase());
    else pushAtom(top(), ONE_CHAR);
  };
  const applyRepeat = (min: number, max: number) => {
    const f = top();
    const x = takeLast(f);
    if (x === null) return;
    const counted = min >= 2 || max >= 2;
    const bound = max === -1 ? min : max;
    if (min > MAX_REPEAT || max > MAX_REPEAT || (max !== -1 && min > max) || (counted && bound > 0 && x.repeats * bound > MAX_REPEAT)) {
      // Go refuses this repeat (invalid repeat count), and the engine will say so: count x once.
      invalidRepeat = true;
      f.last = x;
      return;
    }
    f.last = repeat(x, min, max);
  };
  while (i < s.length) {
    const c = s[i]!;
    switch (c) {
      case "\\": {
        if (s[i + 1] === "Q") {
          const close = s.indexOf("\\E", i + 2);
          const end = close < 0 ? s.length : close;
          for (const ch of s.slice(i + 2, end)) literal(ch);
          i = close < 0 ? s.length : close + 2;
          break;
        }
        const e = escape(s, i);
        const escaped = s[i + 1];
        // `\.`, `\*`…: punctuation stands for itself.
        if (escaped !== undefined && e.end === i + 2 && /[!-/:-@[-`{-~]/.test(escaped)) literal(escaped);
        else if (escaped === "p" || escaped === "P") pushAtom(top(), UNICODE_CLASS);
        else pushAtom(top(), e.consumes ? ONE_CHAR : ASSERTION);
        i = e.end;
        break;
      }
      case "[": {
        const end = classEnd(s, i);
        pushAtom(top(), /\\[pP]|[^\0-\x7f]/.test(s.slice(i, end)) ? UNICODE_CLASS : ONE_CHAR);
        i = end;
        break;
      }
      case "(": {
        if (s[i + 1] !== "?") {
          captures++;
          stack.push(newFrame(true));
          i++;
          break;
        }
        if (s.startsWith("(?P<", i) || s.startsWith("(?<", i)) {
          const close = s.indexOf(">", i);
          captures++;
          stack.push(newFrame(true));
          i = close < 0 ? s.length : close + 1;
          break;
        }
        // Flags: `(?flags)` changes no size; `(?flags:` opens a group.
        let j = i + 2;
        while (j < s.length && /[imsU-]/.test(s[j]!)) j++;
        if (s[j] === ":") stack.push(newFrame(false));
        i = j + 1;
        break;
      }
      case ")":
        if (stack.length > 1) {
          const group = closeFrame(stack.pop()!);
          pushAtom(top(), group);
        } else unbalanced = true;
        i++;
        break;
      case "|": {
        closeConcat(top());
        i++;
        break;
      }
      case "*":
      case "+":
      case "?":
        applyRepeat(c === "+" ? 1 : 0, c === "?" ? 1 : -1);
        i += s[i + 1] === "?" ? 2 : 1;
        break;
      case "{": {
        const r = countedRepeat(s, i);
        if (r === null) {
          literal("{");
          i++;
        } else {
          applyRepeat(r.min, r.max);
          i = r.end + (s[r.end] === "?" ? 1 : 0);
        }
        break;
      }
      case "^":
      case "$":
        pushAtom(top(), ASSERTION);
        i++;
        break;
      case ".":
        pushAtom(top(), ONE_CHAR);
        i++;
        break;
      default: {
        const ch = String.fromCodePoint(s.codePointAt(i)!);
        literal(ch);
        i += ch.length;
      }
    }
  }
  // An unclosed group is a syntax error the engine reports; count what it holds.
  if (stack.length > 1) unbalanced = true;
  while (stack.length > 1) {
    const group = closeFrame(stack.pop()!);
    pushAtom(top(), group);
  }
  const whole = closeFrame(stack[0]!);
  return { size: Math.max(1, whole.size), width: whole.width, unicodeClasses: whole.unicode, captures, invalidRepeat, unbalanced };
}
