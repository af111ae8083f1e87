/**
 * age-encryption, loaded at its first use instead of with this package. It is ESM with the @noble curve and
 * post-quantum libraries behind it: ~4.5 MiB of a server's RSS (docs/BENCHMARKS.md, "Memory"), which a server
 * that only announces its recipient and stores what it receives never needs (./x25519-identity.ts does that part).
 */
type AgeLibrary = typeof import('age-encryption');

let loaded: AgeLibrary | undefined;

/** The age-encryption module, loaded on the first call. */
export function ageLibrary(): AgeLibrary {
  loaded ??= require('age-encryption') as AgeLibrary;
  return loaded;
}
