/** The notifier's door inside the rules room: alerts to Alertmanager, and what it reports. */
export { Notifier, type NotifierOptions } from "./notifier.ts";
export type { NotifierAlert } from "./alert.ts";
export { alertmanagersFromGroup, alertmanagerURL } from "./alertmanager.ts";
export { MAX_BATCH_SIZE } from "./send_loop.ts";
export type { AlertmanagerSendStats, NotifierObservers, NotifierStats } from "./metrics.ts";
