/**
 * The one way both programs tell a person that something failed, on standard error:
 * `client: error: <what happened> (<ERR_CODE>)`, the program's name first so that the line says who speaks when
 * several programs share a terminal or a log. A usage error (ERR_USAGE) carries no code: exit code 2 says it.
 */
export function errorLine(program: string, message: string, code?: string): string {
  const shownCode = code && code !== 'ERR_USAGE' ? ` (${code})` : '';
  return `${program}: error: ${message}${shownCode}\n`;
}

/** The string `code` of an error, when it has one. */
export function errorCode(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : undefined;
}

/**
 * The failure as one JSON line for `--json` (on standard output, where the receipts go):
 * `{"ok":false,"code":"ERR_AUTH","message":"…","exitCode":4}`.
 */
export function errorJson(
  code: string,
  message: string,
  exitCode: number,
  extra: Record<string, unknown> = {},
): string {
  return `${JSON.stringify({ ok: false, ...extra, code, message, exitCode })}\n`;
}
