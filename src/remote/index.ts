/**
 * The remote room's door: remote write out. `RemoteWrite` keeps one durable queue per
 * remote_write entry; `tapCommits` feeds it with what the local storage commits.
 */
export { RemoteWrite, type RemoteQueueFigures, type RemoteWriteFigures, type RemoteWriteOptions } from "./remote_write.ts";
export { tapCommits } from "./tap.ts";
