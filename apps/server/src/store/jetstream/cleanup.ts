/**
 * What a crash or a lost race leaves in the object store, collected after an age as local recovery collects
 * stale temporaries (../cleanup.ts): an object whose id has no receipt naming it, and chunks that no object's
 * meta names (an upload that never reached its commit). Younger ones may belong to a put under way on some server,
 * and are left alone. Chunks a partial names are kept until `--partial-ttl` removes the partial (./partials.ts).
 */
import type { Logger } from '../../logger';
import type { JsConnection } from './connection';
import { type ObjectMeta, purgeObject } from './objects';
import type { JsPartials } from './partials';
import { getReceipt } from './receipts';
import { retry } from './retry';

/** Default age after which an unreferenced object or chunk is removed: far longer than any upload. */
export const ORPHAN_AGE_MS = 6 * 60 * 60 * 1000;

async function subjectsOf(conn: JsConnection, filter: string): Promise<string[]> {
  const info = await retry(
    'object list',
    () => conn.jsm.streams.info(conn.itemsStream, { subjects_filter: filter }),
    conn.deadline,
  );
  return Object.keys(info.state.subjects ?? {});
}

/**
 * Removes objects no receipt names and chunks no object names, once older than `olderThanMs`. Returns how many
 * of each it removed.
 */
export async function cleanOrphans(
  conn: JsConnection,
  log: Logger,
  olderThanMs = ORPHAN_AGE_MS,
  now = Date.now(),
  partials?: JsPartials,
): Promise<{ objects: number; chunks: number; partials: number }> {
  // Partials first: those past their TTL go with their chunks, the others' chunks are kept.
  const swept = partials ? await partials.clean(now) : { removed: 0, kept: new Set<string>() };
  const named = swept.kept;
  let objects = 0;
  let chunks = 0;
  for (const subject of await subjectsOf(conn, `${conn.itemsPrefix}.M.>`)) {
    const m = await retry(
      'object read',
      () => conn.jsm.direct.getMessage(conn.itemsStream, { last_by_subj: subject }),
      conn.deadline,
    );
    if (m === null) continue;
    const meta = m.json<ObjectMeta>();
    const old = now - m.time.getTime() > olderThanMs;
    if (!meta.deleted) {
      const id = meta.metadata?.putId;
      const receipt = id === undefined ? undefined : await getReceipt(conn, id).catch(() => 'unreadable' as const);
      // An unreadable receipt still names an id that was acknowledged: keep what may be its item.
      if (receipt === 'unreadable' || receipt?.item.path === meta.name || !old) {
        named.add(meta.nuid);
        continue;
      }
    } else if (!old) {
      continue;
    }
    await purgeObject(conn, meta.nuid, meta.name);
    objects += 1;
    log.info({ object: meta.name, id: meta.metadata?.putId }, 'removed an object no receipt names');
  }
  const chunkPrefix = `${conn.itemsPrefix}.C.`;
  for (const subject of await subjectsOf(conn, `${chunkPrefix}>`)) {
    const nuid = subject.slice(chunkPrefix.length);
    if (named.has(nuid)) continue;
    const first = await retry(
      'chunk read',
      () => conn.jsm.direct.getMessage(conn.itemsStream, { seq: 1, next_by_subj: subject }),
      conn.deadline,
    );
    if (first === null || now - first.time.getTime() <= olderThanMs) continue;
    await purgeObject(conn, nuid, undefined);
    chunks += 1;
    log.info({ nuid }, 'removed the chunks of an upload that never reached its commit');
  }
  return { objects, chunks, partials: swept.removed };
}
