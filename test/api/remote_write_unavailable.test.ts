/**
 * The contract between an appender that forwards writes (the cluster distributor) and the
 * remote-write handler: a commit that fails with WriteUnavailableError is answered 503, so
 * the sender keeps the batch and retries; a commit refused for its samples is a 400; any other
 * failure is an internal error, whatever properties it happens to carry.
 */
import { expect, test } from "bun:test";
import { Hono } from "hono";
import { registerRemoteWrite } from "../../src/api/remote/index.ts";
import { AppendError, nopLogger, WriteUnavailableError, type Appendable } from "../../src/model/index.ts";
import { Registry } from "../../src/telemetry/index.ts";
import { writeRequestBody } from "../e2e/remote_write_client.ts";

function appAppendingTo(commitError: Error): { app: Hono; requests: ReturnType<Registry["counter"]> } {
  const reg = new Registry();
  const requests = reg.counter("requests", "by code", ["code"]);
  const failing: Appendable = {
    appender: () => ({
      append: () => {},
      commit: () => Promise.reject(commitError),
      rollback: () => {},
    }),
  };
  const app = new Hono();
  // As the API app does: a thrown error is an internal error (500).
  app.onError((err) => new Response(err.message, { status: 500 }));
  registerRemoteWrite(
    app,
    failing,
    nopLogger,
    { requests, samples: reg.counter("samples", "x"), rejectedSamples: reg.counter("rejected", "x", ["reason"]), histogramsDropped: reg.counter("hd", "x") },
    { maxBodyBytes: 1 << 20, maxDecodedBytes: 4 << 20, decodeWorkers: 0 },
  );
  return { app, requests };
}

function write(app: Hono): Promise<Response> {
  const body = writeRequestBody([{ labels: { __name__: "up", job: "a" }, samples: [[1_700_000_000_000, 1]] }]);
  return Promise.resolve(
    app.request("/api/v1/write", { method: "POST", body: body as Uint8Array<ArrayBuffer>, headers: { "Content-Type": "application/x-protobuf", "Content-Encoding": "snappy" } }),
  );
}

test("a write that could not reach enough replicas is a 503 with the appender's reason", async () => {
  const { app, requests } = appAppendingTo(new WriteUnavailableError("cluster write failed: the ring has no members"));
  const r = await write(app);
  expect(r.status).toBe(503);
  expect(await r.text()).toContain("cluster write failed: the ring has no members");
  expect(requests.get("503")).toBe(1);
});

test("a write every replica refused is a 400: retrying the same samples cannot help", async () => {
  const { app } = appAppendingTo(new AppendError("out_of_order", "out of order sample"));
  const r = await write(app);
  expect(r.status).toBe(400);
  expect(await r.text()).toContain("out of order sample");
});

test("only the contract's class means 'retry': another error is not turned into a 503", async () => {
  const lookalike = Object.assign(new Error("disk on fire"), { retryable: true, name: "WriteUnavailableError" });
  const { app } = appAppendingTo(lookalike);
  const r = await write(app);
  expect(r.status).toBe(500);
});
