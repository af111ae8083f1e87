/**
 * The server cases in the order of docs/PROTOCOL.md's table of contents: one file per section (for §4, one per
 * paragraph, numbered in order: 4.1 Handshake … 4.10 Errors).
 */
import type { Section } from '../case';
import { handshake } from './cases/4-1-handshake';
import type { ServerContext } from './context';

export const SERVER_SECTIONS: readonly Section<ServerContext>[] = [handshake];
