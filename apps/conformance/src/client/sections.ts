/** The client cases in the order of docs/PROTOCOL.md's table of contents (client mode), one file per section. */
import type { Section } from '../case';
import { frames } from './cases/2-frames';
import { envelopes } from './cases/3-envelopes';
import { session } from './cases/4-session';
import { encodings } from './cases/5-encodings';
import type { ClientContext } from './context';

export const CLIENT_SECTIONS: readonly Section<ClientContext>[] = [frames, envelopes, ...session, encodings];
