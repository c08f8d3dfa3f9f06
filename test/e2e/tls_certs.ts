/**
 * Real certificates for tests, made with openssl: a CA, and leaf certificates it signs with the
 * given subject alternative names. Everything lands in one temporary directory.
 *
 *   const pki = makeTestPki(dir);
 *   const server = pki.issue("server", ["DNS:localhost", "IP:127.0.0.1"]);
 */
import { execFileSync } from "node:child_process";
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";

export interface IssuedCert {
  certFile: string;
  keyFile: string;
  cert: string;
  key: string;
}

export interface TestPki {
  caFile: string;
  ca: string;
  /** A leaf certificate signed by this CA, with `sans` as openssl writes them (DNS:x, IP:y, email:z, URI:u). */
  issue(name: string, sans: string[], opts?: { clientAuth?: boolean }): IssuedCert;
}

function openssl(args: string[], cwd: string): void {
  execFileSync("openssl", args, { cwd, stdio: ["ignore", "ignore", "pipe"] });
}

/** A new CA in `dir` (files named `<caName>.crt/.key`). */
export function makeTestPki(dir: string, caName = "ca"): TestPki {
  openssl(["req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${caName}.key`, "-out", `${caName}.crt`, "-days", "2", "-subj", `/CN=${caName} test CA`], dir);
  const caFile = join(dir, `${caName}.crt`);
  return {
    caFile,
    ca: readFileSync(caFile, "utf8"),
    issue(name, sans, opts = {}) {
      openssl(["req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", `${name}.key`, "-out", `${name}.csr`, "-subj", `/CN=${name}`], dir);
      const ext = [`subjectAltName=${sans.join(",")}`, `extendedKeyUsage=${opts.clientAuth ? "clientAuth" : "serverAuth"}`].join("\n") + "\n";
      writeFileSync(join(dir, `${name}.ext`), ext);
      openssl(["x509", "-req", "-in", `${name}.csr`, "-CA", `${caName}.crt`, "-CAkey", `${caName}.key`, "-CAcreateserial", "-out", `${name}.crt`, "-days", "2", "-extfile", `${name}.ext`], dir);
      const certFile = join(dir, `${name}.crt`);
      const keyFile = join(dir, `${name}.key`);
      return { certFile, keyFile, cert: readFileSync(certFile, "utf8"), key: readFileSync(keyFile, "utf8") };
    },
  };
}
