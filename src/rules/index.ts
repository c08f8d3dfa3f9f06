/**
 * The rules room's door: rule groups (recording and alerting rules) evaluated on a slotted
 * schedule by the member that owns them, their templates, and the notifier that sends alerts to
 * Alertmanager. node.ts hands in the query function, the Appendable for rule output, the
 * ownership predicate and the clock.
 */
