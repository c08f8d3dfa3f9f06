export * from "./labels.ts";
export * from "./matchers.ts";
export * from "./storage.ts";
export * from "./values.ts";
export * from "./log.ts";
