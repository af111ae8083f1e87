/**
 * Capability negotiation (docs/PROTOCOL.md §4, "Capabilities"): the grammar of a capability name, and the set both
 * peers use once the handshake is over: the names the client listed in its hello that the server lists in its
 * welcome. The mechanism lets additions to version 1 be switched on per connection without breaking a peer that does
 * not know them; the capabilities defined so far are named below.
 */

/**
 * `resume` (docs/PROTOCOL.md §4, "Resuming"): a cut file put keeps what the server holds durably, and a later
 * `put_file` with `resume: true` continues from there (`ready.offset`, `ready.sha256`).
 */
export const RESUME_CAPABILITY = 'resume';

/**
 * A capability name: a lower-case word with hyphens, optionally a revision (`resume/2` is another capability than
 * `resume/1`). Names are compared as whole strings. Names beginning with `x-` are never defined by the spec: they
 * are free for experiments and private extensions.
 */
export const CAPABILITY_NAME_PATTERN = /^[a-z][a-z0-9-]*(\/[1-9][0-9]*)?$/;

/** Most names a hello or a welcome lists. */
export const MAX_CAPABILITIES = 64;

/** Longest capability name, in characters. */
export const MAX_CAPABILITY_CHARS = 64;

/** True when `name` is a well-formed capability name (grammar and length). */
export function isCapabilityName(name: string): boolean {
  return name.length <= MAX_CAPABILITY_CHARS && CAPABILITY_NAME_PATTERN.test(name);
}

/**
 * The capabilities a connection uses: those of `offered` (the client's hello, in its order, each once) that
 * `supported` (the server's welcome) also lists. Both peers compute it and get the same set; names only one side
 * knows, and strings that are not capability names, drop out.
 */
export function negotiate(offered: readonly string[], supported: readonly string[]): string[] {
  const theirs = new Set(supported);
  const both = new Set<string>();
  for (const name of offered) if (theirs.has(name) && isCapabilityName(name)) both.add(name);
  return [...both];
}
