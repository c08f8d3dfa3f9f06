/**
 * The remote-write 1.0 and remote-read protobuf schema (prometheus/prompb types.proto and
 * remote.proto, the fields Shoal uses), compiled with protobufjs. The write path decodes with
 * write_decode.ts for speed and NaN fidelity; remote read and the tests use these types.
 */
import protobuf from "protobufjs";

const PROTO = `
syntax = "proto3";
package prometheus;

message WriteRequest {
  repeated TimeSeries timeseries = 1;
  repeated MetricMetadata metadata = 3;
}

message MetricMetadata {
  enum MetricType {
    UNKNOWN = 0; COUNTER = 1; GAUGE = 2; HISTOGRAM = 3; GAUGEHISTOGRAM = 4; SUMMARY = 5; INFO = 6; STATESET = 7;
  }
  MetricType type = 1;
  string metric_family_name = 2;
  string help = 4;
  string unit = 5;
}

message Sample {
  double value = 1;
  int64 timestamp = 2;
}

message TimeSeries {
  repeated Label labels = 1;
  repeated Sample samples = 2;
}

message Label {
  string name = 1;
  string value = 2;
}

message LabelMatcher {
  enum Type { EQ = 0; NEQ = 1; RE = 2; NRE = 3; }
  Type type = 1;
  string name = 2;
  string value = 3;
}

message ReadHints {
  int64 step_ms = 1;
  string func = 2;
  int64 start_ms = 3;
  int64 end_ms = 4;
  repeated string grouping = 5;
  bool by = 6;
  int64 range_ms = 7;
}

message ReadRequest {
  repeated Query queries = 1;
  enum ResponseType { SAMPLES = 0; STREAMED_XOR_CHUNKS = 1; }
  repeated ResponseType accepted_response_types = 2;
}

message ReadResponse {
  repeated QueryResult results = 1;
}

message Query {
  int64 start_timestamp_ms = 1;
  int64 end_timestamp_ms = 2;
  repeated LabelMatcher matchers = 3;
  ReadHints hints = 4;
}

message QueryResult {
  repeated TimeSeries timeseries = 1;
}
`;

const root = protobuf.parse(PROTO, { keepCase: false }).root;

export const WriteRequestType = root.lookupType("prometheus.WriteRequest");
export const ReadRequestType = root.lookupType("prometheus.ReadRequest");
export const ReadResponseType = root.lookupType("prometheus.ReadResponse");

export interface PbLabel {
  name: string;
  value: string;
}
export interface PbSample {
  value: number;
  timestamp: number | { toNumber(): number };
}
export interface PbTimeSeries {
  labels: PbLabel[];
  samples: PbSample[];
}
export interface PbLabelMatcher {
  type: number;
  name: string;
  value: string;
}
export interface PbQuery {
  startTimestampMs: number | { toNumber(): number };
  endTimestampMs: number | { toNumber(): number };
  matchers: PbLabelMatcher[];
}
export interface PbReadRequest {
  queries: PbQuery[];
  acceptedResponseTypes: number[];
}

/** protobufjs gives int64 as a number or a Long depending on the runtime; normalise. */
export function int64ToNumber(v: number | { toNumber(): number } | null | undefined): number {
  if (v === null || v === undefined) return 0;
  return typeof v === "number" ? v : v.toNumber();
}

export function encodeWriteRequest(series: PbTimeSeries[]): Uint8Array {
  return WriteRequestType.encode(WriteRequestType.fromObject({ timeseries: series })).finish();
}
