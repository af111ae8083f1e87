/**
 * Type-level checks of the client's public API (tsd style): compiled by `pnpm typecheck` (tsconfig.test.json), never
 * run. Each `@ts-expect-error` line must fail to compile, or the typecheck fails.
 */
import * as api from '../../src/index';
import {
  AbortedError,
  AuthError,
  connect,
  ProtocolError,
  type Client,
  type Dict,
  type ErrorCode,
  type SendFileOptions,
} from '../../src/index';

declare const client: Client;

// Plain interfaces of the user's are dictionaries when their fields are dictionary values.
interface Address {
  city: string;
  zip: string | null;
}
interface User {
  name: string;
  age: number;
  admin: boolean;
  tags: string[];
  address: Address;
  history: readonly { year: number; note: string }[];
}
declare const user: User;
void client.sendDict(user);
void client.sendDict(user, { format: 'xml', id: 'u-1' });
void client.sendDict({ literal: 1, nested: { list: [1, 'two', null] } });
declare const dict: Dict;
void client.sendDict(dict);

interface WithDate {
  when: Date;
}
declare const withDate: WithDate;
// @ts-expect-error a Date is not a dictionary value
void client.sendDict(withDate);

interface WithFunction {
  name: string;
  greet: () => string;
}
declare const withFunction: WithFunction;
// @ts-expect-error a function is not a dictionary value
void client.sendDict(withFunction);

interface WithBigint {
  n: bigint;
}
declare const withBigint: WithBigint;
// @ts-expect-error a bigint is not a dictionary value
void client.sendDict(withBigint);

// @ts-expect-error a dictionary is an object, not an array
void client.sendDict([1, 2]);

// One options style: every send takes (what, options).
void client.sendDictBytes(new Uint8Array(2), { format: 'json', id: 'x' });
// @ts-expect-error the positional form is gone
void client.sendDictBytes(new Uint8Array(2), 'json', 'x');
void client.sendFile('/tmp/f', { id: 'f', encrypt: true, signal: AbortSignal.timeout(1000) });
void client.sendFile('/tmp/f', { encrypt: { recipients: ['age1...'] } });
void client.sendFile('/tmp/f', { encrypt: { passphrase: 'p' } });
// @ts-expect-error encrypt takes true, recipients or a passphrase
const wrongEncrypt: SendFileOptions = { encrypt: 'yes' };
void wrongEncrypt;
void client.sendStream(() => [new Uint8Array(1)], { name: 'n', id: 'i' });

// Error codes are a union: a typo does not compile, and a switch over them is checked.
const code: ErrorCode = 'ERR_AUTH';
void code;
// @ts-expect-error not a code of this version
const notACode: ErrorCode = 'ERR_NOPE';
void notACode;
export function describe(err: unknown): string {
  if (err instanceof AuthError) return 'token';
  if (err instanceof AbortedError) return 'aborted';
  if (err instanceof ProtocolError) {
    switch (err.code) {
      case 'ERR_CONNECT':
        return 'down';
      // @ts-expect-error not a code of this version
      case 'ERR_NOPE':
        return 'never';
      default:
        return err.code;
    }
  }
  return 'other';
}

// Only `connect` and types for the client: no client class to construct.
void connect;
// @ts-expect-error the client's implementation is not exported
void api.Client;
// @ts-expect-error nor is the session
void api.Session;

// Disposal: a Client is AsyncDisposable (`await using client = await connect()`).
const disposable: AsyncDisposable = client;
void disposable;
