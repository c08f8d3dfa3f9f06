/**
 * The parse tree of a template (Go's text/template/parse nodes) and each node's canonical text,
 * which execution errors quote as their context (`executing "x" at <humanize "one">`).
 * `pos` is the node's UTF-16 offset in the whole parsed text.
 */
import { goQuoteString } from "../../model/index.ts";

export interface ListNode { readonly kind: "list"; readonly pos: number; readonly nodes: Node[] }
export interface TextNode { readonly kind: "text"; readonly pos: number; readonly text: string }
export interface CommentNode { readonly kind: "comment"; readonly pos: number; readonly text: string }
export interface ActionNode { readonly kind: "action"; readonly pos: number; readonly line: number; readonly pipe: PipeNode }
export interface PipeNode {
  readonly kind: "pipe";
  readonly pos: number;
  readonly line: number;
  isAssign: boolean;
  readonly decl: VariableNode[];
  readonly cmds: CommandNode[];
}
export interface CommandNode { readonly kind: "command"; readonly pos: number; readonly args: ArgNode[] }
export interface IdentifierNode { readonly kind: "identifier"; readonly pos: number; readonly ident: string }
export interface VariableNode { readonly kind: "variable"; readonly pos: number; readonly ident: string[] }
export interface DotNode { readonly kind: "dot"; readonly pos: number }
export interface NilNode { readonly kind: "nil"; readonly pos: number }
export interface FieldNode { readonly kind: "field"; readonly pos: number; readonly ident: string[] }
export interface ChainNode { readonly kind: "chain"; readonly pos: number; readonly node: ArgNode; readonly field: string[] }
export interface BoolNode { readonly kind: "bool"; readonly pos: number; readonly value: boolean }
export interface NumberNode {
  readonly kind: "number";
  readonly pos: number;
  readonly text: string;
  readonly isInt: boolean;
  readonly isUint: boolean;
  readonly isFloat: boolean;
  readonly int64: bigint;
  readonly float64: number;
}
export interface StringNode { readonly kind: "string"; readonly pos: number; readonly quoted: string; readonly text: string }
export interface EndNode { readonly kind: "end"; readonly pos: number }
export interface ElseNode { readonly kind: "else"; readonly pos: number; readonly line: number }
export interface BranchNode {
  readonly kind: "if" | "range" | "with";
  readonly pos: number;
  readonly line: number;
  readonly pipe: PipeNode;
  readonly list: ListNode;
  readonly elseList: ListNode | null;
}
export interface TemplateNode { readonly kind: "template"; readonly pos: number; readonly line: number; readonly name: string; readonly pipe: PipeNode | null }
export interface BreakNode { readonly kind: "break"; readonly pos: number; readonly line: number }
export interface ContinueNode { readonly kind: "continue"; readonly pos: number; readonly line: number }

/** What can stand as an operand of a command. */
export type ArgNode = IdentifierNode | VariableNode | DotNode | NilNode | FieldNode | ChainNode | BoolNode | NumberNode | StringNode | PipeNode;

export type Node =
  | ListNode | TextNode | CommentNode | ActionNode | CommandNode | BranchNode | TemplateNode | BreakNode | ContinueNode
  | EndNode | ElseNode | ArgNode;

export function nodeString(n: Node): string {
  switch (n.kind) {
    case "list":
      return n.nodes.map(nodeString).join("");
    case "text":
      return n.text;
    case "comment":
      return `{{${n.text}}}`;
    case "action":
      return `{{${nodeString(n.pipe)}}}`;
    case "pipe": {
      let s = "";
      if (n.decl.length > 0) s = n.decl.map(nodeString).join(", ") + (n.isAssign ? " = " : " := ");
      return s + n.cmds.map(nodeString).join(" | ");
    }
    case "command":
      return n.args.map((a) => (a.kind === "pipe" ? `(${nodeString(a)})` : nodeString(a))).join(" ");
    case "identifier":
      return n.ident;
    case "variable":
      return n.ident.join(".");
    case "dot":
      return ".";
    case "nil":
      return "nil";
    case "field":
      return n.ident.map((id) => "." + id).join("");
    case "chain":
      return (n.node.kind === "pipe" ? `(${nodeString(n.node)})` : nodeString(n.node)) + n.field.map((f) => "." + f).join("");
    case "bool":
      return n.value ? "true" : "false";
    case "number":
      return n.text;
    case "string":
      return n.quoted;
    case "end":
      return "{{end}}";
    case "else":
      return "{{else}}";
    case "if":
    case "range":
    case "with": {
      let s = `{{${n.kind} ${nodeString(n.pipe)}}}${nodeString(n.list)}`;
      if (n.elseList !== null) s += `{{else}}${nodeString(n.elseList)}`;
      return s + "{{end}}";
    }
    case "template":
      return n.pipe === null ? `{{template ${goQuoteString(n.name)}}}` : `{{template ${goQuoteString(n.name)} ${nodeString(n.pipe)}}}`;
    case "break":
      return "{{break}}";
    case "continue":
      return "{{continue}}";
  }
}
