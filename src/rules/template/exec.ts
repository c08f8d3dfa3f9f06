/**
 * Execution of a parsed template with Go's text/template semantics: variables and their scopes,
 * pipelines passing the previous value as the last argument, field, map-key and method access,
 * Go's argument type checks, truth, range over slices/maps (in key order)/ints with
 * break/continue, template calls, and `missingkey=zero` (Prometheus's option). Errors carry Go's
 * wording and location: `template: NAME:LINE:COL: executing "NAME" at <NODE>: MESSAGE`.
 *
 * Execution is synchronous; `query` is answered by the caller (see expander.ts), so expanding a
 * template costs no promise per node. It is bounded: template calls nest at most
 * MAX_TEMPLATE_DEPTH deep, output is at most MAX_OUTPUT_CHARS, and one run takes at most
 * MAX_STEPS steps, so no template can hold the event loop for long.
 */
import { goQuoteString } from "../../model/index.ts";
import { formatV } from "./go_fmt.ts";
import { durationMethod, timeMethod } from "./go_time.ts";
import { nodeString, type ArgNode, type BranchNode, type ChainNode, type CommandNode, type FieldNode, type IdentifierNode, type Node, type NumberNode, type PipeNode, type TemplateNode, type VariableNode } from "./nodes.ts";
import type { ParsedTemplate } from "./parser.ts";
import {
  ABSENT, canBeNil, GoDuration, GoHTML, GoMap, GoPtr, GoSlice, GoStruct, GoTime, isTrue, typeName, zeroOf,
  type ExecEnv, type GoFunc, type GoType, type GoValue,
} from "./values.ts";

/** A function a template may call by name. */
export interface FuncDef {
  readonly fn: GoFunc;
  /** Go's builtins: `and` and `or` short-circuit. */
  readonly builtin: boolean;
}

/** An execution error, worded as Go's (the message starts with `template: `). */
export class TemplateExecError extends Error {}

/** Thrown by `query` when its answer is not known yet; the caller runs the query and executes again. */
export class PendingQuery {
  constructor(readonly expr: string) {}
}

export const MAX_TEMPLATE_DEPTH = 1000;
export const MAX_OUTPUT_CHARS = 1 << 20;
export const MAX_STEPS = 1_000_000;

/** The absent final argument of a pipeline's first command. */
const MISSING: unique symbol = Symbol("missing");
type Final = GoValue | typeof MISSING;

const enum Flow {
  Normal,
  Break,
  Continue,
}

interface Variable {
  readonly name: string;
  value: GoValue;
}

/** Go's UTF-8 byte length of a string. */
function byteLength(s: string): number {
  let n = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x80) n += 1;
    else if (c < 0x800) n += 2;
    else if (c >= 0xd800 && c <= 0xdbff) {
      n += 4;
      i++;
    } else n += 3;
  }
  return n;
}

/** `NAME:LINE:COL` of a position, COL being Go's 0-based byte offset in the line. */
export function errorLocation(tmpl: ParsedTemplate, pos: number): string {
  const before = tmpl.text.slice(0, pos);
  const nl = before.lastIndexOf("\n");
  let line = 1;
  for (let i = 0; i < before.length; i++) if (before.charCodeAt(i) === 10) line++;
  return `${tmpl.name}:${line}:${byteLength(nl < 0 ? before : before.slice(nl + 1))}`;
}

/** Executes the top-level template of `tmpl` on `data`. */
export function execute(tmpl: ParsedTemplate, data: GoValue, funcs: ReadonlyMap<string, FuncDef>, env: ExecEnv): string {
  const root = tmpl.trees.get(tmpl.name);
  const s = new State(tmpl, funcs, env, data);
  if (root === undefined) s.errorf(`${goQuoteString(tmpl.name)} is an incomplete or empty template`);
  try {
    s.walk(data, root!);
  } catch (e) {
    if (e instanceof RangeError) s.errorf("template nested too deeply");
    throw e;
  }
  return s.out;
}

class State {
  out = "";
  private node: Node | null = null;
  private vars: Variable[];
  private tmplName: string;
  private depth = 0;
  private steps = 0;

  constructor(
    private readonly tmpl: ParsedTemplate,
    private readonly funcs: ReadonlyMap<string, FuncDef>,
    private readonly env: ExecEnv,
    data: GoValue,
  ) {
    this.vars = [{ name: "$", value: data }];
    this.tmplName = tmpl.name;
  }

  private at(node: Node): void {
    this.node = node;
  }

  errorf(message: string): never {
    const name = this.tmplName;
    if (this.node === null) throw new TemplateExecError(`template: ${name}: ${message}`);
    const location = errorLocation(this.tmpl, this.node.pos);
    throw new TemplateExecError(`template: ${location}: executing ${goQuoteString(name)} at <${nodeString(this.node)}>: ${message}`);
  }

  private step(): void {
    if (++this.steps > MAX_STEPS) this.errorf(`template execution exceeded ${MAX_STEPS} steps`);
  }

  private write(s: string): void {
    if (this.out.length + s.length > MAX_OUTPUT_CHARS) this.errorf(`template output exceeds ${MAX_OUTPUT_CHARS} characters`);
    this.out += s;
  }

  // Variables.

  private setVar(name: string, value: GoValue): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
    this.errorf(`undefined variable: ${name}`);
  }

  private varValue(name: string): GoValue {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!.value;
    this.errorf(`undefined variable: ${name}`);
  }

  // Walking the tree.

  walk(dot: GoValue, node: Node): Flow {
    this.at(node);
    this.step();
    switch (node.kind) {
      case "action": {
        const val = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.printValue(node, val);
        return Flow.Normal;
      }
      case "break":
        return Flow.Break;
      case "continue":
        return Flow.Continue;
      case "comment":
        return Flow.Normal;
      case "if":
      case "with":
        return this.walkIfOrWith(dot, node);
      case "list":
        for (const n of node.nodes) {
          const flow = this.walk(dot, n);
          if (flow !== Flow.Normal) return flow;
        }
        return Flow.Normal;
      case "range":
        this.walkRange(dot, node);
        return Flow.Normal;
      case "template":
        this.walkTemplate(dot, node);
        return Flow.Normal;
      case "text":
        this.write(node.text);
        return Flow.Normal;
    }
    this.errorf(`unknown node: ${nodeString(node)}`);
  }

  private walkIfOrWith(dot: GoValue, node: BranchNode): Flow {
    const mark = this.vars.length;
    try {
      const val = this.evalPipeline(dot, node.pipe);
      if (isTrue(val)) return this.walk(node.kind === "with" ? val : dot, node.list);
      if (node.elseList !== null) return this.walk(dot, node.elseList);
      return Flow.Normal;
    } finally {
      this.vars.length = mark;
    }
  }

  private walkRange(dot: GoValue, r: BranchNode): void {
    this.at(r);
    const outer = this.vars.length;
    try {
      let val = this.evalPipeline(dot, r.pipe);
      if (val instanceof GoPtr && val.target !== null) val = val.target;
      const mark = this.vars.length;
      const decl = r.pipe.decl;
      const one = (index: GoValue, elem: GoValue): Flow => {
        if (decl.length > 0) {
          if (r.pipe.isAssign) this.setVar(decl[0]!.ident[0]!, decl.length > 1 ? index : elem);
          else this.vars[this.vars.length - 1]!.value = elem;
        }
        if (decl.length > 1) {
          if (r.pipe.isAssign) this.setVar(decl[1]!.ident[0]!, elem);
          else this.vars[this.vars.length - 2]!.value = index;
        }
        try {
          return this.walk(elem, r.list);
        } finally {
          this.vars.length = mark;
        }
      };
      let ran = false;
      if (val instanceof GoSlice) {
        const items = val.items ?? [];
        for (let i = 0; i < items.length; i++) {
          ran = true;
          if (one(BigInt(i), items[i]) === Flow.Break) break;
        }
      } else if (val instanceof GoMap) {
        for (const key of val.sortedKeys()) {
          ran = true;
          if (one(key, val.entries![key]) === Flow.Break) break;
        }
      } else if (typeof val === "bigint") {
        if (decl.length > 1) this.errorf(`can't use ${formatV(val)} to iterate over more than one variable`);
        for (let i = 0n; i < val; i++) {
          ran = true;
          if (one(undefined, i) === Flow.Break) break;
        }
      } else if (val !== undefined) {
        this.errorf(`range can't iterate over ${formatV(val)}`);
      }
      if (!ran && r.elseList !== null) this.walk(dot, r.elseList);
    } finally {
      this.vars.length = outer;
    }
  }

  private walkTemplate(dot: GoValue, t: TemplateNode): void {
    this.at(t);
    const tree = this.tmpl.trees.get(t.name);
    if (tree === undefined) this.errorf(`template ${goQuoteString(t.name)} not defined`);
    if (this.depth >= MAX_TEMPLATE_DEPTH) this.errorf(`exceeded maximum template depth (${MAX_TEMPLATE_DEPTH})`);
    const newDot = this.evalPipeline(dot, t.pipe);
    const saved = { vars: this.vars, name: this.tmplName };
    // No dynamic scoping: the called template sees only its own $.
    this.vars = [{ name: "$", value: newDot }];
    this.tmplName = t.name;
    this.depth++;
    try {
      this.walk(newDot, tree!);
    } finally {
      this.vars = saved.vars;
      this.tmplName = saved.name;
      this.depth--;
    }
  }

  // Evaluating pipelines and commands.

  private evalPipeline(dot: GoValue, pipe: PipeNode | null): GoValue {
    if (pipe === null) return undefined;
    this.at(pipe);
    let value: Final = MISSING;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    const v = value === MISSING ? undefined : value;
    for (const d of pipe.decl) {
      if (pipe.isAssign) this.setVar(d.ident[0]!, v);
      else this.vars.push({ name: d.ident[0]!, value: v });
    }
    return v;
  }

  private notAFunction(args: readonly ArgNode[], final: Final): void {
    if (args.length > 1 || final !== MISSING) this.errorf(`can't give argument to non-function ${nodeString(args[0]!)}`);
  }

  private evalCommand(dot: GoValue, cmd: CommandNode, final: Final): GoValue {
    this.step();
    const args = cmd.args;
    const first = args[0]!;
    switch (first.kind) {
      case "field":
        return this.evalFieldNode(dot, first, args, final);
      case "chain":
        return this.evalChainNode(dot, first, args, final);
      case "identifier":
        return this.evalFunction(dot, first, cmd, args, final);
      case "pipe":
        this.notAFunction(args, final);
        return this.evalPipeline(dot, first);
      case "variable":
        return this.evalVariableNode(dot, first, args, final);
    }
    this.at(first);
    this.notAFunction(args, final);
    switch (first.kind) {
      case "bool":
        return first.value;
      case "dot":
        return dot;
      case "nil":
        this.errorf("nil is not a command");
      case "number":
        return this.idealConstant(first);
      case "string":
        return first.text;
    }
  }

  private idealConstant(n: NumberNode): GoValue {
    this.at(n);
    const t = n.text;
    const hexInt = t.length > 2 && t[0] === "0" && (t[1] === "x" || t[1] === "X") && !/[pP]/.test(t);
    if (n.isFloat && !hexInt && t[0] !== "'" && /[.eEpP]/.test(t)) return n.float64;
    if (n.isInt) return n.int64;
    if (n.isUint) this.errorf(`${t} overflows int`);
    return undefined;
  }

  private evalFieldNode(dot: GoValue, field: FieldNode, args: ArgNode[] | null, final: Final): GoValue {
    this.at(field);
    return this.evalFieldChain(dot, dot, field, field.ident, args, final);
  }

  private evalChainNode(dot: GoValue, chain: ChainNode, args: ArgNode[] | null, final: Final): GoValue {
    this.at(chain);
    if (chain.node.kind === "nil") this.errorf(`indirection through explicit nil in ${nodeString(chain)}`);
    const pipe = this.evalArg(dot, null, chain.node);
    return this.evalFieldChain(dot, pipe, chain, chain.field, args, final);
  }

  private evalVariableNode(dot: GoValue, v: VariableNode, args: ArgNode[] | null, final: Final): GoValue {
    this.at(v);
    const value = this.varValue(v.ident[0]!);
    if (v.ident.length === 1) {
      this.notAFunction(args ?? [v], final);
      return value;
    }
    return this.evalFieldChain(dot, value, v, v.ident.slice(1), args, final);
  }

  private evalFieldChain(dot: GoValue, receiver: GoValue, node: Node, ident: readonly string[], args: ArgNode[] | null, final: Final): GoValue {
    const n = ident.length;
    for (let i = 0; i < n - 1; i++) receiver = this.evalField(dot, ident[i]!, node, null, MISSING, receiver);
    return this.evalField(dot, ident[n - 1]!, node, args, final, receiver);
  }

  private evalFunction(dot: GoValue, node: IdentifierNode, cmd: Node, args: ArgNode[] | null, final: Final): GoValue {
    this.at(node);
    const f = this.funcs.get(node.ident);
    if (f === undefined) this.errorf(`${goQuoteString(node.ident)} is not a defined function`);
    return this.evalCall(dot, f!.fn, f!.builtin, cmd, node.ident, args, final);
  }

  private evalField(dot: GoValue, fieldName: string, node: Node, args: ArgNode[] | null, final: Final, receiver: GoValue): GoValue {
    if (receiver === undefined) return undefined;
    const typ = typeName(receiver);
    const method = receiver instanceof GoTime ? timeMethod(receiver, fieldName) : receiver instanceof GoDuration ? durationMethod(receiver, fieldName) : null;
    if (method !== null) return this.evalCall(dot, method, false, node, fieldName, args, final);
    const hasArgs = (args !== null && args.length > 1) || final !== MISSING;
    const target = receiver instanceof GoPtr ? receiver.target : receiver;
    if (target instanceof GoStruct && Object.hasOwn(target.fields, fieldName)) {
      if (hasArgs) this.errorf(`${fieldName} has arguments but cannot be invoked as function`);
      return target.fields[fieldName];
    }
    if (receiver instanceof GoMap) {
      if (hasArgs) this.errorf(`${fieldName} is not a method but has arguments`);
      const v = receiver.get(fieldName);
      return v === ABSENT ? zeroOf(receiver.type.elem!) : v;
    }
    if (receiver instanceof GoPtr && receiver.target === null && receiver.type.elem?.fields?.includes(fieldName)) {
      this.errorf(`nil pointer evaluating ${typ}.${fieldName}`);
    }
    this.errorf(`can't evaluate field ${fieldName} in type ${typ}`);
  }

  private evalCall(dot: GoValue, fn: GoFunc, builtin: boolean, node: Node, name: string, argNodes: ArgNode[] | null, final: Final): GoValue {
    const args = argNodes === null ? [] : argNodes.slice(1);
    const params = fn.params;
    let numIn = args.length;
    if (final !== MISSING) numIn++;
    let numFixed = args.length;
    if (fn.variadic !== undefined) {
      numFixed = params.length;
      if (numIn < numFixed) this.errorf(`wrong number of args for ${name}: want at least ${params.length} got ${args.length}`);
    } else if (numIn !== params.length) {
      this.errorf(`wrong number of args for ${name}: want ${params.length} got ${numIn}`);
    }
    if (builtin && (name === "and" || name === "or")) {
      let v: GoValue = undefined;
      for (const a of args) {
        v = this.evalArg(dot, params[0]!, a);
        if (isTrue(v) === (name === "or")) return v;
      }
      if (final !== MISSING) v = this.validateType(final, params[0]!);
      return v;
    }
    const argv: GoValue[] = new Array(numIn);
    let i = 0;
    for (; i < numFixed && i < args.length; i++) argv[i] = this.evalArg(dot, params[i]!, args[i]!);
    if (fn.variadic !== undefined) for (; i < args.length; i++) argv[i] = this.evalArg(dot, fn.variadic, args[i]!);
    if (final !== MISSING) {
      let t = params[params.length - 1]!;
      if (fn.variadic !== undefined) t = numIn - 1 < numFixed ? params[numIn - 1]! : fn.variadic;
      argv[i] = this.validateType(final, t);
    }
    try {
      return fn.call(argv, this.env);
    } catch (e) {
      if (e instanceof PendingQuery || e instanceof TemplateExecError) throw e;
      this.at(node);
      this.errorf(`error calling ${name}: ${e instanceof Error ? e.message : String(e)}`);
    }
  }

  private validateType(value: GoValue, typ: GoType | null): GoValue {
    if (value === undefined) {
      if (typ === null || typ.kind === "any" || typ.kind === "value") return undefined;
      if (canBeNil(typ)) return zeroOf(typ);
      this.errorf(`invalid value; expected ${typ.name}`);
    }
    if (typ === null || typ.kind === "any" || typ.kind === "value") return value;
    const have = typeName(value);
    if (have === typ.name) return value;
    // One dereference, as Go does: *time.Duration where a time.Duration is wanted.
    if (value instanceof GoTime && value.pointer && typ.kind === "time") return new GoTime(value.ns, false);
    if (value instanceof GoDuration && value.pointer && typ.kind === "duration") return new GoDuration(value.ns, false);
    if (value instanceof GoPtr && value.type.elem === typ) {
      if (value.target === null) this.errorf(`dereference of nil pointer of type ${typ.name}`);
      return value.target;
    }
    this.errorf(`wrong type for value; expected ${typ.name}; got ${have}`);
  }

  private evalArg(dot: GoValue, typ: GoType | null, n: ArgNode): GoValue {
    this.at(n);
    switch (n.kind) {
      case "dot":
        return this.validateType(dot, typ);
      case "nil":
        if (typ === null || canBeNil(typ)) return typ === null ? undefined : zeroOf(typ);
        this.errorf(`cannot assign nil to ${typ.name}`);
      case "field":
        return this.validateType(this.evalFieldNode(dot, n, [n], MISSING), typ);
      case "variable":
        return this.validateType(this.evalVariableNode(dot, n, null, MISSING), typ);
      case "pipe":
        return this.validateType(this.evalPipeline(dot, n), typ);
      case "identifier":
        return this.validateType(this.evalFunction(dot, n, n, null, MISSING), typ);
      case "chain":
        return this.validateType(this.evalChainNode(dot, n, null, MISSING), typ);
    }
    if (typ === null) return this.evalEmptyInterface(dot, n);
    switch (typ.kind) {
      case "bool":
        if (n.kind === "bool") return n.value;
        this.errorf(`expected bool; found ${nodeString(n)}`);
      case "float64":
        if (n.kind === "number" && n.isFloat) return n.float64;
        this.errorf(`expected float; found ${nodeString(n)}`);
      case "int":
      case "duration":
        if (n.kind === "number" && n.isInt) return typ.kind === "int" ? n.int64 : new GoDuration(n.int64, false);
        this.errorf(`expected integer; found ${nodeString(n)}`);
      case "string":
      case "html":
        if (n.kind === "string") return typ.kind === "string" ? n.text : new GoHTML(n.text);
        this.errorf(`expected string; found ${nodeString(n)}`);
      case "any":
      case "value":
        return this.evalEmptyInterface(dot, n);
    }
    this.errorf(`can't handle ${nodeString(n)} for arg of type ${typ.name}`);
  }

  private evalEmptyInterface(dot: GoValue, n: ArgNode): GoValue {
    this.at(n);
    switch (n.kind) {
      case "bool":
        return n.value;
      case "dot":
        return dot;
      case "field":
        return this.evalFieldNode(dot, n, null, MISSING);
      case "identifier":
        return this.evalFunction(dot, n, n, null, MISSING);
      case "number":
        return this.idealConstant(n);
      case "string":
        return n.text;
      case "variable":
        return this.evalVariableNode(dot, n, null, MISSING);
      case "pipe":
        return this.evalPipeline(dot, n);
    }
    this.errorf(`can't handle assignment of ${nodeString(n)} to empty interface argument`);
  }

  private printValue(node: Node, v: GoValue): void {
    this.at(node);
    if (v === undefined) return this.write("<no value>");
    if (v instanceof GoPtr) return this.write(v.target === null ? "<nil>" : formatV(v.target));
    this.write(formatV(v));
  }
}
