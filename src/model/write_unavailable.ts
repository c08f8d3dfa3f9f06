/**
 * The contract between an `Appender` that forwards writes elsewhere (the cluster distributor)
 * and the handlers that take writes from the outside (remote write): a commit that failed
 * because the write could not reach enough replicas *now* throws this, so that the handler
 * answers 503 and the sender keeps the batch and retries; any other commit failure is not
 * worth retrying as it is.
 */
export class WriteUnavailableError extends Error {}
