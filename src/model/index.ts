export * from "./labels.ts";
export * from "./matchers.ts";
export * from "./regex.ts";
export * from "./storage.ts";
export * from "./values.ts";
export * from "./log.ts";
export * from "./observer.ts";
export * from "./utf8.ts";
