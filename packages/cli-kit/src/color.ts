/**
 * Whether to colour: never when NO_COLOR is set (https://no-color.org), FORCE_COLOR is 0, TERM is dumb, or the
 * stream is not a terminal. Prompts still move the cursor (they need a terminal anyway); they just draw no colour.
 */
export function colorEnabled(env: NodeJS.ProcessEnv, stream: { isTTY?: boolean }): boolean {
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.FORCE_COLOR === '0' || env.TERM === 'dumb') return false;
  return stream.isTTY === true;
}
