/**
 * The metrics explorer: every metric name this node knows, filterable; picking one inserts it
 * into the panel's editor. Like the globe button of Prometheus's query page.
 */
import { apiGet } from "../api.ts";
import { h } from "../dom.ts";

const SHOWN = 500;

export function openMetricsExplorer(onPick: (name: string) => void): void {
  const list = h("ul", { class: "explorer-list" }, h("li", { class: "muted" }, "Loading…"));
  const count = h("span", { class: "muted small-text" });
  let names: string[] = [];
  const filter = h("input", {
    class: "explorer-filter",
    placeholder: "Filter metric names",
    oninput: () => draw(),
    onkeydown: (ev: KeyboardEvent) => {
      if (ev.key === "Enter") {
        const first = list.querySelector<HTMLElement>("li.metric");
        if (first) pick(first.textContent ?? "");
      }
    },
  });
  const close = () => {
    overlay.remove();
    document.removeEventListener("keydown", onKey);
  };
  const onKey = (ev: KeyboardEvent) => {
    if (ev.key === "Escape") close();
  };
  const pick = (name: string) => {
    close();
    onPick(name);
  };
  const dialog = h(
    "div",
    { class: "explorer", role: "dialog", "aria-label": "Metrics explorer" },
    h("div", { class: "explorer-head" }, h("strong", null, "Metrics explorer"), count, h("button", { class: "btn icon", title: "Close", onclick: close }, "✕")),
    filter,
    list,
  );
  const overlay = h("div", {
    class: "overlay",
    onclick: (ev: MouseEvent) => {
      if (ev.target === overlay) close();
    },
  }, dialog);
  document.body.appendChild(overlay);
  document.addEventListener("keydown", onKey);
  filter.focus();

  function draw(): void {
    const words = filter.value.toLowerCase().split(/\s+/).filter(Boolean);
    const matching = names.filter((n) => words.every((w) => n.toLowerCase().includes(w)));
    count.textContent = `${matching.length} of ${names.length}`;
    const items = matching.slice(0, SHOWN).map((n) => h("li", { class: "metric", onclick: () => pick(n) }, n));
    if (matching.length > SHOWN) items.push(h("li", { class: "muted" }, `… ${matching.length - SHOWN} more, refine the filter`));
    if (matching.length === 0) items.push(h("li", { class: "muted" }, "No matching metric names"));
    list.replaceChildren(...items);
  }

  apiGet<string[]>("/api/v1/label/__name__/values")
    .then((res) => {
      names = [...res.data].sort();
      draw();
    })
    .catch((err: unknown) => list.replaceChildren(h("li", { class: "error-text" }, err instanceof Error ? err.message : String(err))));
}
