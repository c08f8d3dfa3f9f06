/**
 * The PromQL editor: CodeMirror 6 with Prometheus's own PromQL language package, whose client
 * asks this node's /api/v1 for metric names, label names and values while typing.
 */
import { autocompletion, closeBrackets, closeBracketsKeymap, closeCompletion, completionKeymap } from "@codemirror/autocomplete";
import { defaultKeymap, history, historyKeymap, insertNewlineAndIndent } from "@codemirror/commands";
import { bracketMatching, HighlightStyle, syntaxHighlighting } from "@codemirror/language";
import { lintKeymap } from "@codemirror/lint";
import { EditorState, Prec } from "@codemirror/state";
import { EditorView, highlightSpecialChars, keymap, placeholder } from "@codemirror/view";
import { tags } from "@lezer/highlight";
import { PromQLExtension } from "@prometheus-io/codemirror-promql";
import { ROUTE_PREFIX } from "../prefix.ts";

const promqlHighlight = HighlightStyle.define([
  { tag: tags.number, color: "#09885a" },
  { tag: tags.string, color: "#a31515" },
  { tag: tags.keyword, color: "#008080", fontWeight: "bold" },
  { tag: tags.function(tags.variableName), color: "#008080" },
  { tag: tags.labelName, color: "#800000" },
  { tag: tags.operator, color: "#6c3fb4" },
  { tag: tags.modifier, color: "#6c3fb4", fontWeight: "bold" },
  { tag: tags.operatorKeyword, color: "#6c3fb4", fontWeight: "bold" },
  { tag: tags.logicOperator, color: "#6c3fb4" },
  { tag: tags.comment, color: "#888", fontStyle: "italic" },
  { tag: tags.invalid, color: "#d33" },
]);

const editorTheme = EditorView.theme({
  "&": { fontSize: "14px", border: "1px solid var(--border)", borderRadius: "4px", background: "var(--input-bg)" },
  "&.cm-focused": { outline: "none", borderColor: "var(--accent)", boxShadow: "0 0 0 2px var(--accent-soft)" },
  ".cm-content": { fontFamily: "var(--mono)", padding: "7px 0", caretColor: "var(--fg)" },
  ".cm-line": { padding: "0 10px" },
  ".cm-scroller": { fontFamily: "var(--mono)" },
  ".cm-placeholder": { color: "var(--muted)" },
  ".cm-tooltip.cm-tooltip-autocomplete > ul": { fontFamily: "var(--mono)", maxHeight: "18em" },
  ".cm-completionDetail": { color: "var(--muted)", fontStyle: "normal", marginLeft: "1em" },
  ".cm-completionIcon": { opacity: "0.7" },
});

/** One PromQL extension shared by every panel: its client keeps a cache of names and values. */
let sharedPromQL: PromQLExtension | null = null;
function promql(): PromQLExtension {
  if (!sharedPromQL) {
    sharedPromQL = new PromQLExtension().setComplete({
      remote: {
        url: window.location.origin + ROUTE_PREFIX,
        httpMethod: "GET",
        // A node without /api/v1/metadata still completes names; no need to show that failure.
        httpErrorHandler: () => {},
        cache: { maxAge: 60_000 },
      },
      maxMetricsMetadata: 10_000,
    });
  }
  return sharedPromQL;
}

export interface PromQLEditor {
  view: EditorView;
  getValue(): string;
  setValue(expr: string): void;
  focus(): void;
  /** Replaces the selection with `text` and focuses the editor. */
  insert(text: string): void;
  /** Closes an open completion list (when the query runs, the list is no longer wanted). */
  closeCompletion(): void;
}

export function createEditor(parent: HTMLElement, initial: string, onExecute: () => void, onChange: (expr: string) => void): PromQLEditor {
  const runKeys = Prec.highest(
    keymap.of([
      {
        key: "Enter",
        run: () => {
          onExecute();
          return true;
        },
      },
      { key: "Shift-Enter", run: insertNewlineAndIndent },
    ]),
  );
  const view = new EditorView({
    parent,
    state: EditorState.create({
      doc: initial,
      extensions: [
        editorTheme,
        highlightSpecialChars(),
        history(),
        bracketMatching(),
        closeBrackets(),
        autocompletion({ activateOnTyping: true, maxRenderedOptions: 200 }),
        syntaxHighlighting(promqlHighlight),
        placeholder("Expression (press Shift+Enter for newlines)"),
        EditorView.lineWrapping,
        // Completion keys must win over Enter-to-run while the completion list is open.
        Prec.highest(keymap.of(completionKeymap)),
        runKeys,
        keymap.of([...closeBracketsKeymap, ...defaultKeymap, ...historyKeymap, ...lintKeymap]),
        promql().asExtension(),
        EditorView.updateListener.of((u) => {
          if (u.docChanged) onChange(u.state.doc.toString());
        }),
      ],
    }),
  });
  return {
    view,
    getValue: () => view.state.doc.toString(),
    setValue: (expr) => view.dispatch({ changes: { from: 0, to: view.state.doc.length, insert: expr } }),
    focus: () => view.focus(),
    closeCompletion: () => void closeCompletion(view),
    insert: (text) => {
      view.dispatch(view.state.replaceSelection(text));
      view.focus();
    },
  };
}
