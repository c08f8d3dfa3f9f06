/** A TCP port for a test server. */

/**
 * A port on `host` that was free a moment ago (listen on port 0, read the port, close). Another
 * process may take it before the caller binds it; callers that must not flake on that retry
 * with a new port (see `startShoal`'s callers in test/scrape/e2e-node.test.ts).
 */
export function freePort(host = "127.0.0.1"): number {
  const listener = Bun.listen({ hostname: host, port: 0, socket: { data() {} } });
  const port = listener.port;
  listener.stop(true);
  return port;
}
