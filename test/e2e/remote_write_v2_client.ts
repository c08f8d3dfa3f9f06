/**
 * A remote-write 2.0 client for tests, built with protobufjs from the message definitions of
 * prometheus/prompb/io/prometheus/write/v2/types.proto (field numbers and types as there; the
 * gogoproto options dropped). Independent of Shoal's own decoder, so a test compares the two.
 */
import protobuf from "protobufjs";
import * as snappy from "snappyjs";

const TYPES_PROTO = `
syntax = "proto3";
package io.prometheus.write.v2;

message Request {
  reserved 1 to 3;
  repeated string symbols = 4;
  repeated TimeSeries timeseries = 5;
}

message TimeSeries {
  repeated uint32 labels_refs = 1;
  repeated Sample samples = 2;
  repeated Histogram histograms = 3;
  repeated Exemplar exemplars = 4;
  Metadata metadata = 5;
}

message Exemplar {
  repeated uint32 labels_refs = 1;
  double value = 2;
  int64 timestamp = 3;
}

message Sample {
  double value = 1;
  int64 timestamp = 2;
  int64 start_timestamp = 3;
}

message Metadata {
  enum MetricType {
    METRIC_TYPE_UNSPECIFIED = 0; METRIC_TYPE_COUNTER = 1; METRIC_TYPE_GAUGE = 2; METRIC_TYPE_HISTOGRAM = 3;
    METRIC_TYPE_GAUGEHISTOGRAM = 4; METRIC_TYPE_SUMMARY = 5; METRIC_TYPE_INFO = 6; METRIC_TYPE_STATESET = 7;
  }
  MetricType type = 1;
  uint32 help_ref = 3;
  uint32 unit_ref = 4;
}

message Histogram {
  oneof count { uint64 count_int = 1; double count_float = 2; }
  double sum = 3;
  sint32 schema = 4;
  int64 timestamp = 15;
}
`;

export const V2Request = protobuf.parse(TYPES_PROTO, { keepCase: false }).root.lookupType("io.prometheus.write.v2.Request");

export const V2_CONTENT_TYPE = "application/x-protobuf;proto=io.prometheus.write.v2.Request";

export interface V2Series {
  labelsRefs: number[];
  samples?: { value: number; timestamp: number; startTimestamp?: number }[];
  histograms?: { countInt: number; sum: number; timestamp: number }[];
  exemplars?: { labelsRefs: number[]; value: number; timestamp: number }[];
  metadata?: { type: number; helpRef: number; unitRef: number };
}

/** The encoded (uncompressed) Request. */
export function encodeV2(symbols: string[], timeseries: V2Series[]): Uint8Array {
  return V2Request.encode(V2Request.fromObject({ symbols, timeseries })).finish();
}

/** POSTs a 2.0 body (snappy-compressed here unless `raw`) to /api/v1/write. */
export function remoteWriteV2(baseUrl: string, body: Uint8Array, contentType = V2_CONTENT_TYPE): Promise<Response> {
  return fetch(`${baseUrl}/api/v1/write`, {
    method: "POST",
    body: snappy.compress(body) as Uint8Array<ArrayBuffer>,
    headers: { "Content-Type": contentType, "Content-Encoding": "snappy", "X-Prometheus-Remote-Write-Version": "2.0.0" },
  });
}
