/**
 * What a session works with: the server's parts it shares with every other session (SessionContext), and what a
 * put in progress uses of its own session (PutHost, for ./dict-put.ts and ./file-put.ts).
 */
import type { ServerMessage } from '@proj/protocol/wire';
import type { Admitted } from '../admission';
import type { ApprovalQueue, ApprovalRequest } from '../approval';
import type { DictDecoderPool } from '../dict-check/dict-decoder-pool';
import type { InputBudget } from '../input-budget';
import type { Keys } from '../keys';
import type { Logger } from '../logger';
import type { ServerOptions } from '../options';
import type { Output, SessionStats } from '../output/output';
import type { ItemStore } from '../store/item-store';
import type { StoredItem } from '../store/receipts';

/** What every session shares with the server that runs it. */
export interface SessionContext {
  options: ServerOptions;
  serverId: string;
  store: ItemStore;
  keys: Keys;
  /** The capabilities this server supports (./handshake.ts `serverCapabilities`), offered in the welcome. */
  capabilities: readonly string[];
  /** The token clients must present, when one is configured. */
  token?: string;
  log: Logger;
  output: Output;
  approval?: ApprovalQueue;
  /** Memory for input shared by all sessions: dictionary bodies and file bytes on their way to the disk. */
  budget: InputBudget;
  /** Decodes dictionary bodies, large ones off the event loop. */
  dictDecoder: DictDecoderPool;
  /** Called once the session completed its handshake. */
  onWelcomed(session: Admitted): void;
  /** Sessions past their handshake, this one excluded. */
  welcomedCount(): number;
  isShuttingDown(): boolean;
}

/** What a put in progress uses of its session (./session.ts). */
export interface PutHost {
  readonly ctx: SessionContext;
  readonly sender: string;
  readonly stats: SessionStats;
  /** The capabilities this connection negotiated: listed in the client's hello and supported by the server. */
  readonly capabilities: ReadonlySet<string>;
  /** Aborted when the connection ends: whatever a put waits for (the budget, a decoder, the operator) stops waiting. */
  readonly signal: AbortSignal;
  /** True once the socket is closed. */
  readonly socketClosed: boolean;
  send(message: ServerMessage): void;
  /** Answers a put of an id already stored with the first receipt. */
  sendDuplicate(first: StoredItem): void;
  /** Asks the operator, when the server asks (--ask); throws ERR_REJECTED unless the put is accepted. */
  approve(request: ApprovalRequest): Promise<void>;
  /** Answers a failed put with an error carrying its id; the session goes on unless the error is fatal. */
  putError(err: unknown, id: string): void;
  /**
   * Ends the connection as if it were cut: a newer put of the same id resumes on another connection
   * (docs/PROTOCOL.md §4, "Resuming"), and this one's put is suspended (its partial kept for the newer one).
   */
  evict(): void;
}
