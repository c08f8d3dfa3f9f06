/**
 * Alert templates as Prometheus expands them: the text behind the prelude that declares
 * `$labels`, `$externalLabels`, `$externalURL` and `$value` (on the same line, so line numbers
 * stay the user's), over the data `.Labels`, `.ExternalLabels`, `.ExternalURL`, `.Value`, with
 * Prometheus's functions and errors worded as its Expander returns them.
 *
 * A text is parsed once and the tree cached by (name, text); each expansion only executes it.
 * `query` is the one function that waits: execution stops at an unanswered query, the query runs,
 * and execution starts over with the answer known — templates have no other side effects, so
 * the output is the same as one run that waited in place.
 */
import { execute, PendingQuery, TemplateExecError } from "./exec.ts";
import { FuncError } from "./func_error.ts";
import { isTemplateFunction, TEMPLATE_FUNCS } from "./functions.ts";
import { parseTemplate, TemplateSyntaxError, type ParsedTemplate } from "./parser.ts";
import { GoSlice, GoStruct, labelsMap, samplePtr, T_QUERY_RESULT, type ExecEnv, type GoType, type GoValue } from "./values.ts";

/** A template that does not parse or execute; the message is Go's (and Prometheus's) wording. */
export class TemplateError extends Error {}

/** Prometheus's queryResult element. */
export interface TemplateSample {
  labels: Record<string, string>;
  value: number;
}

export interface TemplateContext {
  /** The `query` template function: an instant query at the evaluation time; absent = `query` errors. */
  query?: (expr: string) => Promise<TemplateSample[]>;
  /** For the externalURL and pathPrefix functions. */
  externalURL: string;
  /** The evaluation time in ms since the epoch (`now`). */
  timeMs: number;
}

/** Prometheus's alert-template data: $labels, $externalLabels, $externalURL, $value (and .Labels, .Value …). */
export interface AlertTemplateData {
  labels: Record<string, string>;
  externalLabels: Record<string, string>;
  externalURL: string;
  value: number;
}

const PRELUDE = "{{$labels := .Labels}}{{$externalLabels := .ExternalLabels}}{{$externalURL := .ExternalURL}}{{$value := .Value}}";

const ALERT_FIELDS = ["Labels", "ExternalLabels", "ExternalURL", "Value"] as const;
const T_ALERT_DATA: GoType = {
  name: "struct { Labels map[string]string; ExternalLabels map[string]string; ExternalURL string; Value interface {} }",
  kind: "struct",
  fields: ALERT_FIELDS,
};

/** The most distinct queries one expansion may run (each costs a re-run of the template). */
const MAX_QUERIES = 100;

const cache = new Map<string, ParsedTemplate | TemplateSyntaxError>();
const CACHE_MAX_ENTRIES = 10_000;

function parseCached(name: string, text: string): ParsedTemplate {
  const key = `${name}\u0000${text}`;
  let hit = cache.get(key);
  if (hit === undefined) {
    try {
      hit = parseTemplate(name, text, isTemplateFunction);
    } catch (e) {
      if (!(e instanceof TemplateSyntaxError)) throw e;
      hit = e;
    }
    if (cache.size >= CACHE_MAX_ENTRIES) cache.clear();
    cache.set(key, hit);
  }
  if (hit instanceof TemplateSyntaxError) throw hit;
  return hit;
}

/**
 * Parses an alert template (behind the prelude) as Prometheus's rule loading and `promtool
 * check rules` do; throws TemplateError with text/template's message, e.g.
 * `template: __alert_X:1: function "foo" not defined`.
 */
export function checkTemplate(name: string, text: string): void {
  try {
    parseCached(name, PRELUDE + text);
  } catch (e) {
    if (e instanceof TemplateSyntaxError) throw new TemplateError(e.message);
    throw e;
  }
}

/**
 * Executes `text` (an already parsed tree is reused) on `data` with Prometheus's functions.
 * Throws TemplateError worded as Prometheus's Expander: `error parsing template NAME: …` or
 * `error executing template NAME: …`.
 */
export async function expandTemplate(name: string, text: string, data: GoValue, ctx: TemplateContext): Promise<string> {
  let parsed: ParsedTemplate;
  try {
    parsed = parseCached(name, text);
  } catch (e) {
    if (e instanceof TemplateSyntaxError) throw new TemplateError(`error parsing template ${name}: ${e.message}`);
    throw e;
  }
  const answers = new Map<string, GoValue | FuncError>();
  const env: ExecEnv = {
    timeMs: ctx.timeMs,
    externalURL: ctx.externalURL,
    queryResult(expr: string): GoValue {
      const answer = answers.get(expr);
      if (answer instanceof FuncError) throw answer;
      if (answer === undefined && !answers.has(expr)) throw new PendingQuery(expr);
      return answer;
    },
  };
  for (;;) {
    try {
      return execute(parsed, data, TEMPLATE_FUNCS, env);
    } catch (e) {
      if (e instanceof PendingQuery) {
        if (answers.size >= MAX_QUERIES) {
          throw new TemplateError(`error executing template ${name}: template: ${name}: more than ${MAX_QUERIES} queries in one expansion`);
        }
        answers.set(e.expr, await runQuery(ctx, e.expr));
        continue;
      }
      if (e instanceof TemplateExecError) throw new TemplateError(`error executing template ${name}: ${e.message}`);
      throw e;
    }
  }
}

async function runQuery(ctx: TemplateContext, expr: string): Promise<GoValue | FuncError> {
  if (ctx.query === undefined) return new FuncError("no query engine is available to templates here");
  try {
    const samples = await ctx.query(expr);
    return new GoSlice(T_QUERY_RESULT, samples.map((s) => samplePtr(s.labels, s.value)));
  } catch (e) {
    return new FuncError(e instanceof Error ? e.message : String(e));
  }
}

/** Expands an alert's label or annotation template as Prometheus's alerting rule does. */
export function expandAlertTemplate(name: string, text: string, data: AlertTemplateData, ctx: TemplateContext): Promise<string> {
  const goData = new GoStruct(T_ALERT_DATA, ALERT_FIELDS, {
    Labels: labelsMap(data.labels),
    ExternalLabels: labelsMap(data.externalLabels),
    ExternalURL: data.externalURL,
    Value: data.value,
  });
  return expandTemplate(name, PRELUDE + text, goData, ctx);
}
