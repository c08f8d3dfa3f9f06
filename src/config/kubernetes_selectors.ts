/**
 * Kubernetes label and field selector syntax, checked while the config is read so that a typo
 * is reported at load time (as Prometheus does) rather than as a 400 from the API server later.
 * The API server does the selecting; Shoal only passes the selectors on.
 */

const NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const VALUE = /^(([A-Za-z0-9][-A-Za-z0-9_.]{0,61})?[A-Za-z0-9])?$/;

function keyError(key: string): string | null {
  const slash = key.indexOf("/");
  const prefix = slash >= 0 ? key.slice(0, slash) : null;
  const name = slash >= 0 ? key.slice(slash + 1) : key;
  if (prefix !== null && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return `prefix part of key ${JSON.stringify(key)} must be a DNS subdomain`;
  if (!NAME.test(name)) return `name part of key ${JSON.stringify(key)} must be at most 63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character`;
  return null;
}

function valueError(v: string): string | null {
  return VALUE.test(v) ? null : `value ${JSON.stringify(v)} must be at most 63 alphanumeric characters, '-', '_' or '.', starting and ending with an alphanumeric character`;
}

/** Splits at commas outside parentheses (`a in (x,y),b` has two requirements). */
function splitRequirements(s: string): string[] | null {
  const out: string[] = [];
  let depth = 0;
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (ch === "(") depth++;
    else if (ch === ")") {
      if (--depth < 0) return null;
    } else if (ch === "," && depth === 0) {
      out.push(s.slice(start, i));
      start = i + 1;
    }
  }
  if (depth !== 0) return null;
  out.push(s.slice(start));
  return out;
}

/** Returns why a label selector does not parse, or null when it does ("" selects everything). */
export function checkLabelSelector(selector: string): string | null {
  if (selector.trim() === "") return null;
  const parts = splitRequirements(selector);
  if (parts === null) return `invalid label selector ${JSON.stringify(selector)}: unbalanced parentheses`;
  for (const raw of parts) {
    const req = raw.trim();
    const fail = (why: string) => `invalid label selector ${JSON.stringify(selector)}: ${why}`;
    if (req === "") return fail("empty requirement");
    let m: RegExpMatchArray | null;
    if ((m = req.match(/^!\s*([^\s=!<>(),]+)$/)) || (m = req.match(/^([^\s=!<>(),]+)$/))) {
      const e = keyError(m[1]!);
      if (e) return fail(e);
    } else if ((m = req.match(/^([^\s=!<>(),]+)\s*(==|!=|=)\s*([^\s=!<>(),]*)$/))) {
      const e = keyError(m[1]!) ?? valueError(m[3]!);
      if (e) return fail(e);
    } else if ((m = req.match(/^([^\s=!<>(),]+)\s*([<>])\s*([^\s=!<>(),]*)$/))) {
      const e = keyError(m[1]!);
      if (e) return fail(e);
      if (!/^-?\d+$/.test(m[3]!)) return fail(`for '${m[2]}' operator, the value must be an integer, got ${JSON.stringify(m[3])}`);
    } else if ((m = req.match(/^([^\s=!<>(),]+)\s+(in|notin)\s*\(([^()]*)\)$/))) {
      const e = keyError(m[1]!);
      if (e) return fail(e);
      for (const v of m[3]!.split(",")) {
        const ve = valueError(v.trim());
        if (ve) return fail(ve);
      }
    } else {
      return fail(`unable to parse requirement ${JSON.stringify(req)}`);
    }
  }
  return null;
}

/** Returns why a field selector does not parse, or null when it does ("" selects everything). */
export function checkFieldSelector(selector: string): string | null {
  if (selector === "") return null;
  // Terms are split at commas that a backslash does not escape.
  const terms = selector.split(/(?<!\\),/);
  for (const term of terms) {
    if (!/^[^=!]+(!=|==|=)/.test(term)) return `invalid selector: '${selector}'; can't understand '${term}'`;
    if (/\\[^,=!\\]/.test(term)) return `invalid field selector ${JSON.stringify(selector)}: invalid escape sequence in ${JSON.stringify(term)}`;
  }
  return null;
}
