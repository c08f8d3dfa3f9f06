/** The query page: several panels, their state mirrored in the URL. */
import { h } from "../dom.ts";
import { QueryPanel, type PanelHost } from "../query/panel.ts";
import { defaultPanel, parsePanels, serializePanels } from "../query/state.ts";
import type { Page } from "./page.ts";

export function queryPage(): Page {
  const panels: QueryPanel[] = [];
  const list = h("div", { class: "panels" });

  const host: PanelHost = {
    changed: () => {
      const qs = serializePanels(panels.map((p) => p.state));
      history.replaceState(history.state, "", `${location.pathname}?${qs}`);
    },
    remove: (panel) => {
      const i = panels.indexOf(panel);
      if (i < 0) return;
      panels.splice(i, 1);
      panel.destroy();
      panel.root.remove();
      if (panels.length === 0) addPanel(defaultPanel());
      host.changed();
    },
  };

  function addPanel(state = defaultPanel()): QueryPanel {
    const panel = new QueryPanel(state, host);
    panels.push(panel);
    list.appendChild(panel.root);
    return panel;
  }

  const initial = parsePanels(location.search);
  for (const state of initial.length > 0 ? initial : [defaultPanel()]) addPanel(state);

  const root = h(
    "div",
    { class: "page query-page" },
    list,
    h(
      "button",
      {
        class: "btn add-panel",
        onclick: () => {
          addPanel().focus();
          host.changed();
        },
      },
      "Add Panel",
    ),
  );

  return {
    title: "Query",
    root,
    mounted: () => {
      for (const p of panels) void p.run();
      panels[0]?.focus();
    },
    destroy: () => {
      for (const p of panels) p.destroy();
    },
  };
}
