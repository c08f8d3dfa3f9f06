/**
 * The response envelope of Prometheus's HTTP API: `{"status":"success","data":…}` with optional
 * `warnings`/`infos`, or `{"status":"error","errorType":…,"error":…}` with the status code
 * Prometheus uses for that errorType.
 */

export type ApiErrorType =
  | "bad_data"
  | "execution"
  | "timeout"
  | "canceled"
  | "internal"
  | "unavailable"
  | "not_found"
  | "not_acceptable";

/** An error a route throws to answer with Prometheus's error envelope. */
export class ApiError extends Error {
  constructor(
    readonly type: ApiErrorType,
    message: string,
  ) {
    super(message);
  }
}

export function badData(message: string): ApiError {
  return new ApiError("bad_data", message);
}

const STATUS_BY_TYPE: Record<ApiErrorType, number> = {
  bad_data: 400,
  execution: 422,
  canceled: 499,
  timeout: 503,
  internal: 500,
  // Prometheus has no status of its own for `unavailable` (e.g. admin APIs disabled): 500.
  unavailable: 500,
  not_found: 404,
  not_acceptable: 406,
};

const JSON_HEADERS = { "Content-Type": "application/json" };

function annotations(warnings: readonly string[] | undefined, infos: readonly string[] | undefined): string {
  let s = "";
  if (warnings && warnings.length > 0) s += `,"warnings":${JSON.stringify(warnings)}`;
  if (infos && infos.length > 0) s += `,"infos":${JSON.stringify(infos)}`;
  return s;
}

/** Success with `data` already rendered as JSON text. */
export function successRaw(dataJSON: string, warnings?: readonly string[], infos?: readonly string[]): Response {
  return new Response(`{"status":"success","data":${dataJSON}${annotations(warnings, infos)}}`, { headers: JSON_HEADERS });
}

export function success(data: unknown, warnings?: readonly string[], infos?: readonly string[]): Response {
  return successRaw(JSON.stringify(data), warnings, infos);
}

export function errorResponse(type: ApiErrorType, message: string, warnings?: readonly string[]): Response {
  const body = `{"status":"error","errorType":${JSON.stringify(type)},"error":${JSON.stringify(message)}${annotations(warnings, undefined)}}`;
  return new Response(body, { status: STATUS_BY_TYPE[type], headers: JSON_HEADERS });
}
