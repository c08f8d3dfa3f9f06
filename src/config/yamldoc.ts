/**
 * YAML documents for config and rule files: parsed with the `yaml` document API so that every
 * value keeps its position, checked for what Go's YAML decoder would refuse (syntax errors,
 * duplicate keys, non-scalar keys, broken aliases), and converted to plain JS for the schema.
 */
import { isAlias, isCollection, isMap, isNode, isPair, LineCounter, parseDocument, visit, type Document } from "yaml";
import { ConfigError } from "./error.ts";

export class YamlDoc {
  private constructor(
    private readonly doc: Document.Parsed,
    private readonly lines: LineCounter,
    readonly value: unknown,
  ) {}

  /** Throws ConfigError (`file:line: message`) for anything that is not a usable YAML document. */
  static parse(text: string, filename: string): YamlDoc {
    const lines = new LineCounter();
    const doc = parseDocument(text, { lineCounter: lines, uniqueKeys: true, prettyErrors: true });
    const fail = (line: number | null, msg: string): never => {
      throw new ConfigError(`${filename}${line === null ? "" : ":" + line}: ${msg}`, filename, line, "");
    };
    if (doc.errors.length > 0) {
      const err = doc.errors[0]!;
      fail(err.linePos?.[0].line ?? null, err.message.split("\n")[0]!.replace(/ at line \d+, column \d+:?$/, ""));
    }
    let badKey: number | null | undefined;
    visit(doc, {
      Pair(_, pair) {
        if (badKey === undefined && isPair(pair) && isCollection(pair.key)) {
          badKey = pair.key.range ? lines.linePos(pair.key.range[0]).line : null;
          return visit.BREAK;
        }
        return undefined;
      },
    });
    if (badKey !== undefined) fail(badKey, "mapping keys must be plain values, not lists or mappings");
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount: 1000 });
    } catch (e) {
      // Unresolved or excessive aliases surface only here.
      fail(null, (e as Error).message);
    }
    return new YamlDoc(doc, lines, value);
  }

  /** The document's root node, for readers that walk the nodes themselves to report columns. */
  get root(): unknown {
    return this.doc.contents;
  }

  /** `node` itself, or what it points at when it is an alias (`*anchor`). */
  resolve(node: unknown): unknown {
    return isAlias(node) ? node.resolve(this.doc) : node;
  }

  /** 1-based line and column where `node` starts, as Go's YAML decoder numbers them. */
  position(node: unknown): { line: number; col: number } | null {
    if (!isNode(node) || !node.range) return null;
    return this.lines.linePos(node.range[0]);
  }

  /**
   * The 1-based line of the value at `path` (of the key `key` in the mapping there, if given),
   * or of its closest ancestor that exists.
   */
  line(path: readonly PropertyKey[], key?: string): number | null {
    const p = path.filter((x): x is string | number => typeof x === "string" || typeof x === "number");
    for (let n = p.length; n >= 0; n--) {
      const node = n === 0 ? this.doc.contents : this.doc.getIn(p.slice(0, n), true);
      if (n === p.length && key !== undefined && isMap(node)) {
        const pair = node.items.find((it) => isNode(it.key) && (it.key as { value?: unknown }).value === key);
        if (pair && isNode(pair.key) && pair.key.range) return this.lines.linePos(pair.key.range[0]).line;
      }
      if (isNode(node) && node.range) return this.lines.linePos(node.range[0]).line;
    }
    return null;
  }
}
