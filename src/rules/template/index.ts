/**
 * Alert templates: Go's text/template language with Prometheus's functions, interpreted here
 * (no maintained JavaScript library implements Go templates).
 */
export { checkTemplate, expandAlertTemplate, TemplateError } from "./expander.ts";
export type { AlertTemplateData, TemplateContext, TemplateSample } from "./expander.ts";
