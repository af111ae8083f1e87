/**
 * Operator approval (`--ask`): each item waits for an accept or reject, one question at a time, and a question
 * left unanswered for `timeoutMs` counts as a rejection. The question itself is asked by an `Approver`: on the
 * terminal that is an enquirer prompt (./prompts.ts); tests and embedders pass their own.
 */

/**
 * What the operator is asked about. `id`, `detail` and `preview` are the client's text as sent: an approver that
 * shows them must make them safe first (./output/printable.ts; the terminal approver does, ./prompts.ts).
 */
export interface ApprovalRequest {
  kind: 'dict' | 'file';
  id: string;
  sender: string;
  /** Dictionary format, or the client's file name. */
  detail: string;
  /** Bytes, when known. */
  bytes?: number;
  /** For dictionaries: a short preview of the content. */
  preview?: string;
}

/**
 * Asks one question. Resolves true to accept. `signal` aborts when the time is up: an approver should stop
 * asking (and may resolve anything; the answer is ignored).
 */
export type Approver = (request: ApprovalRequest, signal: AbortSignal) => Promise<boolean>;

export type ApprovalOutcome = 'accepted' | 'rejected' | 'timeout';

/** Serialises questions: a second one waits until the first is answered or timed out. */
export class ApprovalQueue {
  #tail: Promise<unknown> = Promise.resolve();

  constructor(
    private readonly approver: Approver,
    private readonly timeoutMs: number,
  ) {}

  /** Questions asked or waiting their turn. */
  #open = 0;

  /**
   * The longest a question asked now can wait for its outcome: its own timeout after those of every question
   * before it (each ends by its timeout at the latest). What a pending notice announces (docs/PROTOCOL.md §4).
   */
  get longestWaitMs(): number {
    return (this.#open + 1) * this.timeoutMs;
  }

  /** Asks about `request` when the questions before it are done. `signal` withdraws it (client gone). */
  ask(request: ApprovalRequest, withdraw?: AbortSignal): Promise<ApprovalOutcome> {
    this.#open += 1;
    const turn = this.#tail.then(() => this.#askNow(request, withdraw)).finally(() => (this.#open -= 1));
    this.#tail = turn.catch(() => undefined);
    return turn;
  }

  #askNow(request: ApprovalRequest, withdraw?: AbortSignal): Promise<ApprovalOutcome> {
    if (withdraw?.aborted) return Promise.resolve('rejected');
    const ac = new AbortController();
    return new Promise<ApprovalOutcome>((resolve) => {
      let settled = false;
      const finish = (outcome: ApprovalOutcome): void => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        withdraw?.removeEventListener('abort', onWithdraw);
        ac.abort();
        resolve(outcome);
      };
      const onWithdraw = (): void => finish('rejected');
      const timer = setTimeout(() => finish('timeout'), this.timeoutMs);
      withdraw?.addEventListener('abort', onWithdraw, { once: true });
      this.approver(request, ac.signal).then(
        (ok) => finish(ok ? 'accepted' : 'rejected'),
        () => finish('rejected'),
      );
    });
  }
}
