// Types of eslint.config.js for the tests that read its room table (test/build/lint-rules.test.ts).
import type { Linter } from "eslint";

/** Room (folder under src/) → the rooms it may import through their doors. */
export declare const arrows: Readonly<Record<string, readonly string[]>>;
declare const config: Linter.Config[];
export default config;
