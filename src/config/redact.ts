/**
 * The config as it may be shown (status API, UI, logs): re-marshalled from the parsed YAML, so
 * comments (which may hold old passwords) are gone and aliases are resolved, with every field
 * that Prometheus types as `config.Secret` replaced by `<secret>`, as Prometheus marshals them.
 * Sections Shoal keeps without acting on (remote_write, remote_read) and Prometheus-only fields
 * hold HTTP client, SigV4 and service-discovery configs, so the same names are redacted there too.
 */
import { Document, parseDocument } from "yaml";
import type { Config } from "./types.ts";

export const SECRET_TOKEN = "<secret>";

/**
 * Field names Prometheus declares as Secret: HTTP client auth (basic_auth.password,
 * authorization.credentials, oauth2.client_secret, bearer_token), SigV4 and EC2/Lightsail/Scaleway
 * `secret_key`, Azure `client_secret`, Consul `token`, Marathon `auth_token`, OpenStack and Uyuni
 * `password` and `application_credential_secret`.
 */
const SECRET_FIELDS = new Set([
  "password",
  "credentials",
  "client_secret",
  "bearer_token",
  "secret_key",
  "token",
  "auth_token",
  "application_credential_secret",
]);

/** Maps whose keys are user data (label or header names, URL parameters), never field names. */
const FREE_FORM_MAPS = new Set(["labels", "external_labels", "headers", "params", "node_meta"]);

type Yaml = unknown;

function redactValue(v: Yaml): Yaml {
  // An empty secret shows nothing to hide; Prometheus leaves it out.
  if (v === null || v === undefined || v === "") return v;
  return SECRET_TOKEN;
}

function redact(node: Yaml, parentKey: string | null): Yaml {
  if (Array.isArray(node)) return node.map((item) => redact(item, parentKey));
  if (node === null || typeof node !== "object") return node;
  const obj = node as Record<string, Yaml>;
  const out: Record<string, Yaml> = {};
  for (const [key, value] of Object.entries(obj)) {
    if (parentKey !== null && FREE_FORM_MAPS.has(parentKey)) {
      out[key] = value;
    } else if ((key === "bearer_token" || key === "bearer_token_file") && !("authorization" in obj)) {
      // Prometheus's HTTP client config turns the legacy bearer fields into an authorization.
      const auth = (out.authorization ??= { type: "Bearer" }) as Record<string, Yaml>;
      if (key === "bearer_token") auth.credentials = redactValue(value);
      else auth.credentials_file = value;
    } else if (SECRET_FIELDS.has(key) || (key === "key" && parentKey === "tls_config")) {
      out[key] = redactValue(value);
    } else if (key === "proxy_connect_header" && value !== null && typeof value === "object") {
      // Header name → list of values, every value a Secret.
      out[key] = Object.fromEntries(
        Object.entries(value as Record<string, Yaml>).map(([h, vs]) => [h, Array.isArray(vs) ? vs.map(redactValue) : redactValue(vs)]),
      );
    } else if (key === "secrets" && parentKey === "http_headers" && Array.isArray(value)) {
      // http_headers.<name>.secrets: values Prometheus sends but never shows.
      out[key] = value.map(redactValue);
    } else if (key === "http_headers" && value !== null && typeof value === "object") {
      // Header name → {values, secrets, files}: the names are user data, `secrets` are Secrets.
      out[key] = Object.fromEntries(
        Object.entries(value as Record<string, Yaml>).map(([h, spec]) => [h, redact(spec, "http_headers")]),
      );
    } else {
      out[key] = redact(value, key);
    }
  }
  return out;
}

/** YAML text with every secret replaced; `text` must already have parsed as a config. */
export function redactedYaml(text: string): string {
  const value = parseDocument(text).toJS({ maxAliasCount: 1000 }) as Yaml;
  if (value === null || value === undefined) return "{}\n";
  // Sequences at their key's indentation and no line folding, as Go's YAML encoder writes them.
  return new Document(redact(value, null)).toString({ indentSeq: false, lineWidth: 0 });
}

/** The config for /api/v1/status/config and anything else that shows it. */
export function configDisplayYaml(cfg: Config): string {
  return redactedYaml(cfg.source.text);
}
