/**
 * `remote_write` entries: Prometheus's defaults, its checks with file and line, and the fields
 * Shoal refuses by name instead of accepting and ignoring them.
 */
import { describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { ConfigError, parseConfig } from "../../src/config/index.ts";
import { BUN, run, tempDir } from "../support/index.ts";

function fails(yaml: string): string {
  try {
    parseConfig(yaml, "p.yml");
  } catch (e) {
    expect(e).toBeInstanceOf(ConfigError);
    return (e as Error).message;
  }
  throw new Error("the config was accepted");
}

describe("remote_write config", () => {
  test("Prometheus's defaults", () => {
    const [rw] = parseConfig("remote_write:\n  - url: http://vm:8428/api/v1/write\n", "p.yml").remoteWrite;
    expect(rw).toMatchObject({
      url: "http://vm:8428/api/v1/write",
      name: "",
      remoteTimeout: 30_000,
      headers: {},
      writeRelabelConfigs: [],
      followRedirects: true,
      queueConfig: { capacity: 10_000, maxShards: 50, minShards: 1, maxSamplesPerSend: 2000, batchSendDeadline: 5000, minBackoff: 30, maxBackoff: 5000, retryOnHttp429: false, sampleAgeLimit: 0 },
      metadataConfig: { send: true, sendInterval: 60_000, maxSamplesPerSend: 2000 },
    });
    expect(rw!.hash).toMatch(/^[0-9a-f]{32}$/);
  });

  test("every field is read", () => {
    const [rw] = parseConfig(
      `remote_write:
  - url: https://mimir/api/v1/push
    name: mimir
    remote_timeout: 10s
    headers: {X-Scope-OrgID: team-a}
    basic_auth: {username: u, password: p}
    tls_config: {insecure_skip_verify: true, server_name: mimir.local}
    proxy_url: http://proxy:3128
    follow_redirects: false
    send_exemplars: false
    protobuf_message: prometheus.WriteRequest
    write_relabel_configs: [{source_labels: [__name__], regex: "go_.*", action: drop}]
    queue_config: {capacity: 500, min_shards: 2, max_shards: 4, max_samples_per_send: 100, batch_send_deadline: 1s, min_backoff: 100ms, max_backoff: 10s, retry_on_http_429: true, sample_age_limit: 1h}
    metadata_config: {send: false, send_interval: 2m, max_samples_per_send: 10}
`,
      "p.yml",
    ).remoteWrite;
    expect(rw).toMatchObject({
      name: "mimir",
      remoteTimeout: 10_000,
      headers: { "X-Scope-OrgID": "team-a" },
      basicAuth: { username: "u", password: "p" },
      tlsConfig: { insecureSkipVerify: true, serverName: "mimir.local" },
      proxyUrl: "http://proxy:3128",
      followRedirects: false,
      queueConfig: { capacity: 500, minShards: 2, maxShards: 4, maxSamplesPerSend: 100, batchSendDeadline: 1000, minBackoff: 100, maxBackoff: 10_000, retryOnHttp429: true, sampleAgeLimit: 3600_000 },
      metadataConfig: { send: false, sendInterval: 120_000, maxSamplesPerSend: 10 },
    });
    expect(rw!.writeRelabelConfigs[0]).toMatchObject({ action: "drop", regex: "go_.*" });
  });

  test("a misspelt field is an error with its line", () => {
    // In Prometheus's words, as promtool prints them.
    expect(fails("remote_write:\n  - url: http://x/w\n    quee_config: {capacity: 1}\n")).toBe("parsing YAML file p.yml: yaml: unmarshal errors:\n  line 3: field quee_config not found in type config.plain");
    expect(fails("remote_write:\n  - url: http://x/w\n    queue_config:\n      capacty: 1\n")).toBe("parsing YAML file p.yml: yaml: unmarshal errors:\n  line 4: field capacty not found in type config.QueueConfig");
  });

  test("cloud signing and features Shoal lacks are refused by name, not ignored", () => {
    expect(fails("remote_write:\n  - url: http://x/w\n    sigv4: {region: eu-west-1}\n")).toBe('p.yml:3: remote_write[0].sigv4: field "sigv4" is not supported by Shoal');
    expect(fails("remote_write:\n  - url: http://x/w\n    azuread: {cloud: AzurePublic}\n")).toContain('field "azuread" is not supported by Shoal');
    expect(fails("remote_write:\n  - url: http://x/w\n    google_iam: {credentials_file: x}\n")).toContain('field "google_iam" is not supported by Shoal');
    expect(fails("remote_write:\n  - url: http://x/w\n    send_exemplars: true\n")).toContain("p.yml:3: remote_write[0].send_exemplars: send_exemplars: true is not supported by Shoal");
    expect(fails("remote_write:\n  - url: http://x/w\n    send_native_histograms: true\n")).toContain("not supported by Shoal");
    expect(fails("remote_write:\n  - url: http://x/w\n    protobuf_message: io.prometheus.write.v2.Request\n")).toContain("remote write 2.0) is not supported by Shoal");
    expect(fails("remote_write:\n  - url: http://x/w\n    enable_http2: true\n")).toContain("not supported by Shoal");
    expect(fails("remote_write:\n  - url: http://x/w\n    no_proxy: localhost\n")).toContain('field "no_proxy" is not supported by Shoal');
  });

  test("Prometheus's checks: url, headers, queue bounds, names, duplicates, one auth method", () => {
    expect(fails("remote_write:\n  - name: a\n")).toBe("p.yml:2: remote_write[0]: url for remote_write is empty");
    expect(fails("remote_write:\n  -\n")).toContain("empty or null remote write config section");
    expect(fails("remote_write:\n  - url: http://x/w\n    headers: {Authorization: x}\n")).toContain("authorization header must be changed via the basic_auth");
    expect(fails("remote_write:\n  - url: http://x/w\n    headers: {Content-Type: x}\n")).toContain("Content-Type is a reserved header. It must not be changed");
    expect(fails("remote_write:\n  - url: http://x/w\n    queue_config: {min_shards: 5, max_shards: 2}\n")).toContain("min_shards must not be greater than max_shards");
    expect(fails("remote_write:\n  - url: http://x/w\n    queue_config: {max_samples_per_send: 0}\n")).toContain("max_samples_per_send must be positive");
    expect(fails("remote_write:\n  - url: http://x/w\n    queue_config: {min_backoff: 5s, max_backoff: 1s}\n")).toContain("max_backoff must not be less than min_backoff");
    expect(fails("remote_write:\n  - {url: http://x/w, name: a}\n  - {url: http://y/w, name: a}\n")).toContain('found multiple remote write configs with job name "a"');
    expect(fails("remote_write:\n  - {url: http://x/w}\n  - {url: http://x/w}\n")).toContain("duplicate remote write configs are not allowed, found duplicate for URL: http://x/w");
    expect(fails("remote_write:\n  - url: http://x/w\n    basic_auth: {username: a}\n    oauth2: {client_id: c, token_url: http://t/}\n")).toContain("at most one of basic_auth, authorization, oauth2");
    expect(fails("remote_write:\n  - url: http://x/w\n    write_relabel_configs: [null]\n")).toContain("empty or null relabeling rule in remote write config");
    expect(fails("remote_write:\n  - url: ftp://x/w\n")).toContain('URL scheme "ftp" is not supported by Shoal');
  });

  test("shoal check config refuses a misspelt remote_write field with its line", async () => {
    const dir = tempDir("rw-check");
    const file = join(dir, "p.yml");
    writeFileSync(file, "remote_write:\n  - url: http://x/w\n    quee_config: {capacity: 1}\n");
    const r = await run([BUN, "src/cli.ts", "check", "config", file]);
    expect(r.code).toBe(1);
    expect(r.stdout + r.stderr).toContain("line 3: field quee_config not found in type config.plain");
  });
});
