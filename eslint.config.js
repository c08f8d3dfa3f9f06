// The linter keeps the layout of DESIGN.md ("Layout"): every folder under src/ is a room whose
// only door is its index.ts, and imports between rooms follow the arrows below. A wrong-way
// import fails `npm run lint` and so CI. Besides those import rules it runs a few correctness
// rules that the type checker does not cover; formatting is left alone on purpose.
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";
import tsParser from "@typescript-eslint/parser";
import importX from "eslint-plugin-import-x";

const root = dirname(fileURLToPath(import.meta.url));

/**
 * Room → the rooms it may import (through their doors). Every room may import model/, which
 * imports nothing. A room absent from another's list is a wrong-way import.
 */
export const arrows = {
  model: [],
  config: ["model"],
  storage: ["model"],
  promql: ["storage", "model"],
  discovery: ["config", "model"],
  // Scrape configs (and their relabel and HTTP client settings) are config's types.
  scrape: ["discovery", "config", "model"],
  // Rule files are parsed by config; the notifier finds Alertmanagers through discovery.
  rules: ["promql", "discovery", "config", "model"],
  remote: ["storage", "config", "model"],
  cluster: ["storage", "model"],
  // Telemetry defines every room's metrics by implementing the observer interfaces that the
  // rooms it measures export, so it points at them and none of them points back.
  telemetry: ["storage", "scrape", "promql", "discovery", "rules", "remote", "cluster", "model"],
  // The web layer reads web.config.file (TLS, basic auth) through config and serves /metrics
  // from telemetry's registry.
  api: ["promql", "config", "telemetry", "model"],
  // Sub-commands may use any room below node.ts.
  commands: ["api", "cluster", "config", "discovery", "model", "promql", "remote", "rules", "scrape", "storage", "telemetry"],
};

const rooms = Object.keys(arrows);
const src = (p) => `./src/${p}`;

/** Everything under src/ outside `room`: the files that must use its door (web/ has its own zone). */
const outside = (room) => [`./src/!(${room})/**`, "./src/*.ts"];

const doorZones = rooms.map((room) => ({
  target: outside(room),
  from: src(room),
  except: ["./index.ts"],
  message: `src/${room}/ is a room: import it only through its door, src/${room}/index.ts (DESIGN.md "Layout").`,
}));

const arrowZones = rooms
  .map((room) => ({ room, forbidden: rooms.filter((other) => other !== room && !arrows[room].includes(other)) }))
  .filter(({ forbidden }) => forbidden.length > 0)
  .map(({ room, forbidden }) => ({
    target: src(room),
    from: forbidden.map(src),
    message: `src/${room}/ may import only ${arrows[room].length ? arrows[room].join(", ") : "nothing else in src/"} (DESIGN.md arrows point down).`,
  }));

const wiringZone = {
  target: "./src/*/**",
  from: "./src/*.ts",
  message: "Rooms never import the top-level wiring (node.ts, cli.ts and their flag files); node.ts and cli.ts import the rooms.",
};

// The UI is browser code bundled on its own: it may borrow the server's response types from a
// room's door (erased from the bundle, so a change of shape fails the type check) but no code.
const webZone = {
  target: "./web/**",
  from: "./src/**",
  except: [join(root, "src/*/index.ts")],
  message: "web/ is browser code: it may import only types, and only from a room's door (src/<room>/index.ts).",
};

const webTypesOnly = {
  meta: {
    type: "problem",
    docs: { description: "web/ imports only types from src/" },
    messages: { value: "web/ is bundled for the browser: import from src/ with `import type` only ({{source}})." },
    schema: [],
  },
  create(context) {
    const serverSrc = join(root, "src") + "/";
    const intoSrc = (spec) =>
      typeof spec === "string" && spec.startsWith(".") && resolve(dirname(context.filename), spec).startsWith(serverSrc);
    const typeOnly = (node) =>
      node.importKind === "type" ||
      node.exportKind === "type" ||
      (node.specifiers?.length > 0 &&
        node.specifiers.every((s) => s.importKind === "type" || s.exportKind === "type"));
    const check = (node) => {
      if (node.source && intoSrc(node.source.value) && !typeOnly(node)) {
        context.report({ node: node.source, messageId: "value", data: { source: node.source.value } });
      }
    };
    return {
      ImportDeclaration: check,
      ExportNamedDeclaration: check,
      ExportAllDeclaration: check,
      ImportExpression(node) {
        if (node.source.type === "Literal" && intoSrc(node.source.value)) {
          context.report({ node: node.source, messageId: "value", data: { source: node.source.value } });
        }
      },
    };
  },
};

export default [
  { ignores: ["node_modules/**", "dist/**", "test-output/**"] },
  {
    files: ["src/**/*.ts", "web/**/*.ts"],
    languageOptions: { parser: tsParser, ecmaVersion: "latest", sourceType: "module" },
    linterOptions: { reportUnusedDisableDirectives: "error" },
    plugins: { "import-x": importX },
    settings: { "import-x/extensions": [".ts", ".js"] },
    rules: {
      "import-x/no-restricted-paths": ["error", { basePath: root, zones: [...doorZones, ...arrowZones, wiringZone, webZone] }],
      "import-x/no-self-import": "error",
      "import-x/no-duplicates": "error",
      // Correctness rules the type checker leaves to a linter.
      "no-async-promise-executor": "error",
      "no-compare-neg-zero": "error",
      "no-cond-assign": "error",
      "no-constant-binary-expression": "error",
      "no-debugger": "error",
      "no-dupe-else-if": "error",
      "no-duplicate-case": "error",
      "no-empty-character-class": "error",
      "no-empty-pattern": "error",
      "no-import-assign": "error",
      "no-invalid-regexp": "error",
      "no-self-assign": "error",
      "no-sparse-arrays": "error",
      "no-unmodified-loop-condition": "error",
      "no-unsafe-finally": "error",
      "no-unsafe-optional-chaining": "error",
      "no-unused-labels": "error",
      "no-useless-backreference": "error",
      "no-useless-catch": "error",
      "use-isnan": "error",
    },
  },
  {
    files: ["web/**/*.ts"],
    plugins: { shoal: { rules: { "web-types-only": webTypesOnly } } },
    rules: { "shoal/web-types-only": "error" },
  },
];
