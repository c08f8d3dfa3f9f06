/** The one error type of the config room: its message reads `file:line: field.path: what is wrong`. */
export class ConfigError extends Error {
  constructor(
    message: string,
    readonly filename: string,
    readonly line: number | null,
    readonly field: string,
  ) {
    super(message);
  }
}
