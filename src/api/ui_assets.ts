/**
 * The web UI's files as the HTTP server sees them: URL path → content type + bytes.
 *
 * Two sources, one shape:
 * - In the compiled binary, `scripts/build.ts` bundles `web/index.html` ahead of time and
 *   generates the binary's entry module, which embeds every output file
 *   (`import f from "…" with { type: "file" }`) and calls `registerEmbeddedUiAssets` before the
 *   CLI starts. Nothing is read from disk at run time.
 * - From source (`bun src/cli.ts`, tests), nothing was registered, so the first call to
 *   `loadUiAssets` bundles `web/index.html` in memory with the same options.
 * When there is no `web/index.html` at all, `loadUiAssets` returns null and the server simply
 * has no UI.
 */

/** One servable file of the UI. */
export interface UiAsset {
  readonly contentType: string;
  /** Hashed file names under /assets/ never change content, so they may be cached forever. */
  readonly immutable: boolean;
  readonly body: Blob;
}

/** URL path (always starting with "/", e.g. "/index.html", "/assets/index-abc123.js") → file. */
export type UiAssets = ReadonlyMap<string, UiAsset>;

/** What the generated entry of the binary hands over: one record per embedded file. */
export interface EmbeddedUiFile {
  readonly urlPath: string;
  /** The path Bun gives an embedded file (`/$bunfs/...`); read with `Bun.file`. */
  readonly file: string;
  readonly contentType: string;
}

/**
 * Bundler options shared by the build script and the in-memory bundle, so that the binary and
 * `bun src/cli.ts` serve the same URLs. No public path: chunks import each other relative to
 * their own URL, so the same files work under any --web.route-prefix; index.html's relative
 * asset URLs are made absolute under the prefix when it is served (ui.ts).
 */
export const UI_PUBLIC_PATH = "";
export const UI_BUILD_NAMING = {
  entry: "[name].[ext]",
  chunk: "assets/[name]-[hash].[ext]",
  asset: "assets/[name]-[hash].[ext]",
} as const;

/** Where the UI's entry lives in the source tree, relative to this file. */
export const UI_SOURCE_ENTRY = new URL("../../web/index.html", import.meta.url).pathname;

/** Set by the binary's entry (possibly empty: a build without web/); null when running from source. */
let embedded: UiAssets | null = null;
let loading: Promise<UiAssets | null> | null = null;

function isImmutable(urlPath: string): boolean {
  return urlPath.startsWith("/assets/");
}

/** Called once by the binary's generated entry, before anything else runs. */
export function registerEmbeddedUiAssets(files: readonly EmbeddedUiFile[]): void {
  const map = new Map<string, UiAsset>();
  for (const f of files) {
    map.set(f.urlPath, {
      contentType: f.contentType,
      immutable: isImmutable(f.urlPath),
      body: Bun.file(f.file, { type: f.contentType }),
    });
  }
  embedded = map;
}

/** Turns a bundler output path ("./assets/x.js" or an absolute path under outdir) into a URL path. */
export function outputUrlPath(outputPath: string, outdir?: string): string {
  let rel = outputPath;
  if (outdir !== undefined && rel.startsWith(outdir)) rel = rel.slice(outdir.length);
  rel = rel.replace(/^\.?\/+/, "");
  return "/" + rel;
}

/** Bundles the UI from source; `outdir` writes the files (build script), otherwise in memory. */
export async function bundleUi(entry: string, outdir?: string): Promise<Bun.BuildOutput> {
  const result = await Bun.build({
    entrypoints: [entry],
    outdir,
    minify: true,
    sourcemap: "none",
    target: "browser",
    // The UI loads heavy page code (the query editor) as its own chunk; other pages skip it.
    splitting: true,
    publicPath: UI_PUBLIC_PATH,
    naming: UI_BUILD_NAMING,
  });
  if (!result.success) {
    const why = result.logs.map((l) => String(l)).join("\n");
    throw new Error(`bundling the web UI (${entry}) failed:\n${why}`);
  }
  return result;
}

async function bundleFromSource(): Promise<UiAssets | null> {
  if (!(await Bun.file(UI_SOURCE_ENTRY).exists())) return null;
  const result = await bundleUi(UI_SOURCE_ENTRY);
  const map = new Map<string, UiAsset>();
  for (const out of result.outputs) {
    const urlPath = outputUrlPath(out.path);
    map.set(urlPath, { contentType: out.type, immutable: isImmutable(urlPath), body: out });
  }
  return map;
}

/**
 * The UI's files: the embedded ones in the binary, else a bundle of `web/` made on first use.
 * Null when the tree has no UI. A bundling error is thrown (it is a bug in web/, not user input).
 */
export function loadUiAssets(): Promise<UiAssets | null> {
  if (embedded !== null) return Promise.resolve(embedded.size > 0 ? embedded : null);
  loading ??= bundleFromSource().catch((err: unknown) => {
    loading = null;
    throw err;
  });
  return loading;
}
