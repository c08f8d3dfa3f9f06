/** Pieces shared by the data pages: loading/error states, auto-refresh, label badges. */
import { ApiError } from "../api.ts";
import { h, type Child } from "../dom.ts";
import type { Page } from "./page.ts";

export function errorBox(err: unknown): HTMLElement {
  const message = err instanceof ApiError || err instanceof Error ? err.message : String(err);
  return h("div", { class: "notice error", role: "alert" }, message);
}

export function emptyState(title: string, detail: Child): HTMLElement {
  return h("div", { class: "empty-state" }, h("div", { class: "empty-title" }, title), h("div", { class: "empty-detail" }, detail));
}

export function labelBadges(labels: Record<string, string>, skip: string[] = []): HTMLElement {
  return h(
    "div",
    { class: "labels" },
    ...Object.keys(labels)
      .filter((k) => !skip.includes(k))
      .sort()
      .map((k) => h("span", { class: "label-badge" }, `${k}="${labels[k]}"`)),
  );
}

export function healthBadge(health: string): HTMLElement {
  const good = ["up", "ok", "active", "alive"];
  const warn = ["joining", "leaving", "suspect", "pending"];
  const cls = good.includes(health) ? "good" : warn.includes(health) ? "warn" : health === "unknown" ? "neutral" : "bad";
  return h("span", { class: `badge ${cls}` }, health.toUpperCase());
}

/**
 * A page whose body is redrawn from one fetch, again every `refreshMs` while it is shown.
 * Errors replace the body with the message; the last good body stays until the next success.
 */
export function refreshingPage(opts: {
  title: string;
  className: string;
  refreshMs: number | null;
  header?: Child;
  load: (signal: AbortSignal) => Promise<Node>;
}): Page {
  const body = h("div", { class: "page-body" }, h("div", { class: "loading-text" }, "Loading…"));
  const status = h("span", { class: "refresh-status" });
  const root = h(
    "div",
    { class: `page ${opts.className}` },
    h("div", { class: "page-head" }, h("h1", null, opts.title), opts.header ?? null, status),
    body,
  );
  let timer: ReturnType<typeof setTimeout> | null = null;
  let ctrl: AbortController | null = null;
  let stopped = false;

  async function tick(): Promise<void> {
    ctrl?.abort();
    const current = new AbortController();
    ctrl = current;
    try {
      const content = await opts.load(current.signal);
      if (current.signal.aborted) return;
      if (content.parentNode !== body || body.childNodes.length !== 1) body.replaceChildren(content);
      status.textContent = opts.refreshMs ? `updated ${new Date().toLocaleTimeString()}` : "";
    } catch (err) {
      if (current.signal.aborted) return;
      body.replaceChildren(errorBox(err));
    } finally {
      if (!stopped && opts.refreshMs !== null) timer = setTimeout(() => void tick(), opts.refreshMs);
    }
  }

  return {
    title: opts.title,
    root,
    mounted: () => void tick(),
    destroy: () => {
      stopped = true;
      ctrl?.abort();
      if (timer) clearTimeout(timer);
    },
  };
}
