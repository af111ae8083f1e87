/** A mistake in how a program was called (a bad flag or value, a bad config file): exit code 2 in both apps. */
export class UsageError extends Error {
  readonly code = 'ERR_USAGE';
  constructor(message: string, options?: ErrorOptions) {
    super(message, options);
    this.name = 'UsageError';
  }
}
