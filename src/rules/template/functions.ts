/**
 * Prometheus's template functions (template/template.go's function map) over the builtins: the
 * whole set a template may call, and what the parser checks names against.
 */
import { parseDuration } from "../../model/index.ts";
import { BUILTINS } from "./builtins.ts";
import type { FuncDef } from "./exec.ts";
import { FuncError } from "./func_error.ts";
import { humanize, humanize1024, humanizeDuration, humanizePercentage, humanizeTimestamp, toDuration, toTime } from "./humanize.ts";
import { graphLink, match, queryEscape, reReplaceAll, stripDomain, stripPort, tableLink, title, toLower, toUpper, urlPath } from "./text_funcs.ts";
import {
  compareGoStrings, GoHTML, GoMap, GoPtr, GoSlice, GoStruct, T_ANY, T_ARGS_MAP, T_QUERY_RESULT, T_SAMPLE_PTR, T_STRING,
  type GoFunc, type GoValue,
} from "./values.ts";

function fn(params: GoFunc["params"], call: GoFunc["call"], variadic?: GoFunc["variadic"]): FuncDef {
  return { fn: variadic === undefined ? { params, call } : { params, variadic, call }, builtin: false };
}

/** The struct behind a *sample; a nil one is Go's nil dereference. */
function sample(v: GoValue): GoStruct {
  const target = (v as GoPtr).target;
  if (target === null) throw new FuncError("runtime error: invalid memory address or nil pointer dereference");
  return target;
}

function sampleLabel(s: GoStruct, name: string): string {
  const v = (s.fields.Labels as GoMap).get(name);
  return typeof v === "string" ? v : "";
}

const str = (v: GoValue) => v as string;

const PROMETHEUS_FUNCS: [string, FuncDef][] = [
  ["query", fn([T_STRING], ([q], env) => env.queryResult(str(q)))],
  [
    "first",
    fn([T_QUERY_RESULT], ([v]) => {
      const items = (v as GoSlice).items;
      if (items === null || items.length === 0) throw new FuncError("first() called on vector with no elements");
      return items[0];
    }),
  ],
  ["label", fn([T_STRING, T_SAMPLE_PTR], ([name, s]) => sampleLabel(sample(s), str(name)))],
  ["value", fn([T_SAMPLE_PTR], ([s]) => sample(s).fields.Value)],
  ["strvalue", fn([T_SAMPLE_PTR], ([s]) => sampleLabel(sample(s), "__value__"))],
  [
    "args",
    fn(
      [],
      (args) => {
        const entries: Record<string, GoValue> = {};
        args.forEach((a, i) => (entries[`arg${i}`] = a));
        return new GoMap(T_ARGS_MAP, entries);
      },
      T_ANY,
    ),
  ],
  ["reReplaceAll", fn([T_STRING, T_STRING, T_STRING], ([p, r, t]) => reReplaceAll(str(p), str(r), str(t)))],
  ["safeHtml", fn([T_STRING], ([t]) => new GoHTML(str(t)))],
  ["match", fn([T_STRING, T_STRING], ([p, t]) => match(str(p), str(t)))],
  ["title", fn([T_STRING], ([s]) => title(str(s)))],
  ["toUpper", fn([T_STRING], ([s]) => toUpper(str(s)))],
  ["toLower", fn([T_STRING], ([s]) => toLower(str(s)))],
  ["graphLink", fn([T_STRING], ([e]) => graphLink(str(e)))],
  ["tableLink", fn([T_STRING], ([e]) => tableLink(str(e)))],
  [
    "sortByLabel",
    fn([T_STRING, T_QUERY_RESULT], ([label, v]) => {
      const result = v as GoSlice;
      if (result.items === null) return result;
      const name = str(label);
      const key = (x: GoValue) => sampleLabel(sample(x), name);
      // Array.prototype.sort is stable, as Go's sort.Stable.
      return new GoSlice(result.type, [...result.items].sort((a, b) => compareGoStrings(key(a), key(b))));
    }),
  ],
  ["stripPort", fn([T_STRING], ([s]) => stripPort(str(s)))],
  ["stripDomain", fn([T_STRING], ([s]) => stripDomain(str(s)))],
  ["humanize", fn([T_ANY], ([v]) => humanize(v))],
  ["humanize1024", fn([T_ANY], ([v]) => humanize1024(v))],
  ["humanizeDuration", fn([T_ANY], ([v]) => humanizeDuration(v))],
  ["humanizePercentage", fn([T_ANY], ([v]) => humanizePercentage(v))],
  ["humanizeTimestamp", fn([T_ANY], ([v]) => humanizeTimestamp(v))],
  ["toTime", fn([T_ANY], ([v]) => toTime(v))],
  ["toDuration", fn([T_ANY], ([v]) => toDuration(v))],
  ["now", fn([], (_args, env) => env.timeMs / 1000)],
  ["pathPrefix", fn([], (_args, env) => urlPath(env.externalURL))],
  ["externalURL", fn([], (_args, env) => env.externalURL)],
  [
    "parseDuration",
    fn([T_STRING], ([d]) => {
      const text = str(d);
      const negative = text.startsWith("-");
      let ms: number;
      try {
        ms = parseDuration(negative ? text.slice(1) : text);
      } catch (e) {
        // model.ParseDurationAllowNegative: the sign is stripped before parsing, and from the message.
        throw new FuncError((e as Error).message);
      }
      return (negative ? -ms : ms) / 1000;
    }),
  ],
  ["urlQueryEscape", fn([T_STRING], ([s]) => queryEscape(str(s)))],
];

/** Every function a template may call: Go's builtins and Prometheus's (which take precedence). */
export const TEMPLATE_FUNCS: ReadonlyMap<string, FuncDef> = new Map([...BUILTINS, ...PROMETHEUS_FUNCS]);

export function isTemplateFunction(name: string): boolean {
  return TEMPLATE_FUNCS.has(name);
}
