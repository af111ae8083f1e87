/** Coded errors, as tests assert them: by their stable `code`, never by their message. */

/**
 * The `code` of what `fn` throws, or undefined when it returns. A thrown value without a string `code` is thrown
 * again, so that a test expecting a coded error fails on the real error.
 */
export function codeOf(fn: () => unknown): string | undefined {
  try {
    fn();
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code !== 'string') throw err;
    return code;
  }
  return undefined;
}

/**
 * The `code` of the rejection of `promise`, or `'resolved'` when it resolves (a string either way, so that many
 * outcomes compare in one `toEqual`). A rejection without a string `code` is thrown again.
 */
export async function codeOfRejection(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    const code = (err as { code?: unknown } | null)?.code;
    if (typeof code !== 'string') throw err;
    return code;
  }
  return 'resolved';
}
