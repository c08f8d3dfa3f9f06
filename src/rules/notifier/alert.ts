/**
 * An alert as the notifier carries it, and the body of Alertmanager's API v2 `POST
 * /api/v2/alerts` (a list of PostableAlert): labels, annotations, startsAt, endsAt and
 * generatorURL, with times in RFC 3339 and millisecond precision as go-openapi writes them.
 */
import { labelsFromRecord, labelsToRecord, relabel, type Labels, type RelabelConfig } from "../../model/index.ts";

export interface NotifierAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  /** Milliseconds since the epoch; 0 = unknown (Alertmanager then uses the time it received it). */
  startsAtMs: number;
  /** Milliseconds since the epoch; 0 = unknown. In the past = resolved. */
  endsAtMs: number;
  generatorURL: string;
}

interface PostableAlert {
  labels: Record<string, string>;
  annotations: Record<string, string>;
  startsAt?: string;
  endsAt?: string;
  generatorURL?: string;
}

/** The JSON body for a batch. A zero time is left out rather than sent as year 1. */
export function postableAlertsJSON(alerts: readonly NotifierAlert[]): string {
  const body: PostableAlert[] = alerts.map((a) => {
    const p: PostableAlert = { labels: a.labels, annotations: a.annotations };
    if (a.startsAtMs !== 0) p.startsAt = new Date(a.startsAtMs).toISOString();
    if (a.endsAtMs !== 0) p.endsAt = new Date(a.endsAtMs).toISOString();
    if (a.generatorURL !== "") p.generatorURL = a.generatorURL;
    return p;
  });
  return JSON.stringify(body);
}

/**
 * Adds `externalLabels` where the alert has no value of its own (the alert's labels win), then
 * runs `rules`; alerts a rule drops are left out. Unchanged alerts are passed on as they are.
 */
export function relabelAlerts(alerts: readonly NotifierAlert[], externalLabels: Labels, rules: readonly RelabelConfig[]): NotifierAlert[] {
  if (externalLabels.length === 0 && rules.length === 0) return [...alerts];
  const out: NotifierAlert[] = [];
  for (const a of alerts) {
    let labels = a.labels;
    if (externalLabels.length > 0) {
      let merged: Record<string, string> | null = null;
      for (const l of externalLabels) {
        if ((a.labels[l.name] ?? "") !== "") continue;
        merged ??= { ...a.labels };
        merged[l.name] = l.value;
      }
      if (merged !== null) labels = merged;
    }
    if (rules.length > 0) {
      const result = relabel(labelsFromRecord(labels), rules);
      if (result === null) continue;
      labels = labelsToRecord(result);
    }
    out.push(labels === a.labels ? a : { ...a, labels });
  }
  return out;
}
