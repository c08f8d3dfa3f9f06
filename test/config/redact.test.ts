/**
 * What the shown config hides: every field Prometheus types as a Secret, wherever it sits, and
 * nothing that merely shares a secret field's name (label names, header names, URL parameters).
 */
import { expect, test } from "bun:test";
import { parse } from "yaml";
import { redactedYaml } from "../../src/config/index.ts";

test("secrets in HTTP client, SigV4, TLS and service-discovery fields become <secret>; data named like them stays", () => {
  const text = `# password: in-a-comment
remote_write:
  - url: http://x/w
    headers: { password: header-value }
    tls_config: { key: inline-key, cert_file: /c.pem }
    proxy_connect_header: { Proxy-Authorization: [p1, p2] }
    http_headers:
      password: { values: [v1], secrets: [s1] }
    bearer_token_file: /token
alerting:
  alertmanagers:
    - consul_sd_configs: [{ server: "c:8500", token: consul-token }]
      azure_sd_configs: [{ client_secret: az-secret }]
      basic_auth: { username: u, password: "" }
scrape_configs:
  - job_name: j
    params: { token: [param-value] }
    static_configs: [{ targets: [a], labels: { credentials: label-value } }]
    authorization: { credentials: &pw shared-secret }
  - job_name: k
    basic_auth: { username: u, password: *pw }
`;
  const shown = redactedYaml(text);
  for (const s of ["in-a-comment", "inline-key", "p1", "p2", "s1", "consul-token", "az-secret", "shared-secret"]) expect(shown).not.toContain(s);
  const y = parse(shown);
  const rw = y.remote_write[0];
  expect(rw.headers).toEqual({ password: "header-value" });
  expect(rw.tls_config).toEqual({ key: "<secret>", cert_file: "/c.pem" });
  expect(rw.proxy_connect_header).toEqual({ "Proxy-Authorization": ["<secret>", "<secret>"] });
  expect(rw.http_headers).toEqual({ password: { values: ["v1"], secrets: ["<secret>"] } });
  expect(rw.authorization).toEqual({ type: "Bearer", credentials_file: "/token" });
  expect(y.alerting.alertmanagers[0].consul_sd_configs[0].token).toBe("<secret>");
  // An empty secret hides nothing.
  expect(y.alerting.alertmanagers[0].basic_auth.password).toBe("");
  expect(y.scrape_configs[0].params).toEqual({ token: ["param-value"] });
  expect(y.scrape_configs[0].static_configs[0].labels).toEqual({ credentials: "label-value" });
  expect(y.scrape_configs[1].basic_auth.password).toBe("<secret>");
});
