/**
 * kubernetes_sd_configs and consul_sd_configs as config: Prometheus's fields and defaults, and
 * its refusals with its messages (the texts of Prometheus's discovery/kubernetes and
 * discovery/consul config checks), through parseConfig and through `shoal check config`.
 * Debian's promtool is built without these two mechanisms ("field kubernetes_sd_configs not
 * found"), so it cannot be the reference here.
 */
import { afterAll, beforeAll, describe, expect, test } from "bun:test";
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { configDisplayYaml, parseConfig } from "../../src/config/index.ts";
import { BUN, removeTempDir, runSync, SHOAL_CLI, tempDir } from "../support/index.ts";

const k8s = (body: string) => `scrape_configs:\n  - job_name: k\n    kubernetes_sd_configs:\n      - ${body.trim().split("\n").join("\n        ")}\n`;
const consul = (body: string) => `scrape_configs:\n  - job_name: c\n    consul_sd_configs:\n      - ${body.trim().split("\n").join("\n        ")}\n`;

/** [file text, the message both Shoal and promtool give (a substring of it)] */
const BAD: [string, string][] = [
  [k8s("role: pods"), 'unknown Kubernetes SD role "pods"'],
  [k8s("namespaces: { names: [a] }"), "role missing (one of: pod, service, endpoints, endpointslice, node, ingress)"],
  [k8s("role: pod\napi_server: https://k8s:6443\nkubeconfig_file: kc.yml"), "cannot use 'kubeconfig_file' and 'api_server' simultaneously"],
  [k8s("role: pod\nbearer_token: abc"), "to use custom HTTP client configuration please provide the 'api_server' URL explicitly"],
  [k8s("role: pod\nkubeconfig_file: kc.yml\nbearer_token: abc"), "cannot use a custom HTTP client configuration together with 'kubeconfig_file'"],
  [k8s("role: pod\napi_server: https://k8s:6443\nnamespaces: { own_namespace: true }"), "cannot use 'api_server' and 'namespaces.own_namespace' simultaneously"],
  [k8s("role: service\nselectors: [{ role: pod, label: app=web }]"), "service role supports only service selectors"],
  [k8s("role: endpoints\nselectors: [{ role: node }]"), "endpoints role supports only pod, service, endpoints selectors"],
  [k8s("role: pod\nselectors: [{ role: pod }, { role: pod }]"), "duplicated selector role: pod"],
  [k8s("role: pod\nselectors: [{ role: pod, field: 'spec.nodeName' }]"), "invalid selector: 'spec.nodeName'; can't understand 'spec.nodeName'"],
  [k8s("role: pod\nselectors: [{ role: pod, label: 'app in (web' }]"), ""],
  [k8s("role: pod\nrole_typo: x"), ""],
  [consul("server: ''"), "consul SD configuration requires a server address"],
  [consul("server: localhost:8500\nusername: u\nbasic_auth: { username: a, password: b }"), "at most one of consul SD configuration username and password and basic auth can be configured"],
  [consul("server: localhost:8500\ntoken: t\nauthorization: { credentials: c }"), "at most one of consul SD token, authorization, or oauth2 can be configured"],
  [consul("refresh_interval: soon"), ""],
];

const GOOD: string[] = [
  k8s("role: endpointslice\napi_server: https://k8s.example:6443\nbearer_token_file: /var/run/token\ntls_config: { ca_file: /etc/ca.pem }\nnamespaces: { names: [a, b] }\nselectors:\n  - { role: pod, label: 'app=web,tier!=db', field: 'spec.nodeName=n1' }\n  - { role: service, label: 'env in (prod, staging),!canary' }\nattach_metadata: { node: true, namespace: true }"),
  k8s("role: node\nkubeconfig_file: kc.yml"),
  k8s("role: pod\nnamespaces: { own_namespace: true, names: [extra] }"),
  consul("server: consul.service:8500\ntoken: secret\ndatacenter: eu1\nservices: [web, api]\ntags: [metrics]\nnode_meta: { rack: r1 }\ntag_separator: ';'\nallow_stale: false\nrefresh_interval: 10s\nscheme: https\npath_prefix: /consul\ntls_config: { insecure_skip_verify: true }"),
];

describe("parsed values", () => {
  test("kubernetes_sd_configs fields", () => {
    const k = parseConfig(GOOD[0]!, "/etc/shoal/p.yml").scrapeConfigs[0]!.kubernetesSDConfigs[0]!;
    expect(k.role).toBe("endpointslice");
    expect(k.apiServer).toBe("https://k8s.example:6443");
    expect(k.http.authorization).toEqual({ type: "Bearer", credentials: undefined, credentialsFile: "/var/run/token" });
    expect(k.namespaces).toEqual({ ownNamespace: false, names: ["a", "b"] });
    expect(k.selectors).toEqual([
      { role: "pod", label: "app=web,tier!=db", field: "spec.nodeName=n1" },
      { role: "service", label: "env in (prod, staging),!canary", field: "" },
    ]);
    expect(k.attachMetadata).toEqual({ node: true, namespace: true, deployment: false, job: false, cronjob: false });
    // A relative kubeconfig path is resolved against the config file's directory.
    expect(parseConfig(GOOD[1]!, "/etc/shoal/p.yml").scrapeConfigs[0]!.kubernetesSDConfigs[0]!.kubeconfigFile).toBe("/etc/shoal/kc.yml");
  });

  test("consul_sd_configs fields and Prometheus's defaults", () => {
    const c = parseConfig(GOOD[3]!, "p.yml").scrapeConfigs[0]!.consulSDConfigs[0]!;
    expect(c).toMatchObject({
      server: "consul.service:8500",
      token: "secret",
      datacenter: "eu1",
      services: ["web", "api"],
      tags: ["metrics"],
      nodeMeta: { rack: "r1" },
      tagSeparator: ";",
      allowStale: false,
      refreshInterval: 10_000,
      scheme: "https",
      pathPrefix: "/consul",
    });
    const d = parseConfig(consul("services: [x]"), "p.yml").scrapeConfigs[0]!.consulSDConfigs[0]!;
    expect(d).toMatchObject({ server: "localhost:8500", scheme: "http", tagSeparator: ",", allowStale: true, refreshInterval: 30_000, datacenter: "" });
  });

  test("the Consul token is shown as <secret> in the displayed config", () => {
    const cfg = parseConfig(GOOD[3]!, "p.yml");
    const shown = configDisplayYaml(cfg);
    expect(shown).toContain("token: <secret>");
    expect(shown).not.toContain("secret\n");
  });
});

describe("refusals", () => {
  for (const [text, message] of BAD) {
    test(`refused: ${text.split("\n").slice(3).join(" ").trim().slice(0, 90)}`, () => {
      expect(() => parseConfig(text, "c.yml")).toThrow(message);
    });
  }
});

describe("shoal check config", () => {
  let dir = "";
  beforeAll(() => {
    dir = tempDir("k8s-consul-config");
    writeFileSync(join(dir, "kc.yml"), "apiVersion: v1\nkind: Config\nclusters: []\nusers: []\ncontexts: []\n");
  });
  afterAll(() => removeTempDir(dir));

  const cases = [...BAD.map(([text, message]) => ({ text, message, ok: false })), ...GOOD.map((text) => ({ text, message: "", ok: true }))];
  cases.forEach(({ text, message, ok }, i) => {
    test(`case ${i} ${ok ? "accepted" : "refused"}`, () => {
      const file = join(dir, `case-${i}.yml`);
      writeFileSync(file, text);
      const shoal = runSync([BUN, SHOAL_CLI, "check", "config", "--syntax-only", file], dir);
      expect(shoal.code === 0).toBe(ok);
      if (message !== "") expect(shoal.out + shoal.err).toContain(message);
    });
  });
});
