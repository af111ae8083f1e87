/**
 * ProtocolErrors across a thread boundary (errors.ts `protocolErrorData`, `reviveProtocolError`): a structured
 * clone keeps only an Error's message; the data form keeps its class, code, message and fields, for every class.
 */
import { MessageChannel, receiveMessageOnPort } from 'node:worker_threads';
import * as protocol from '../src/index';
import {
  AbortedError,
  AuthError,
  BadMessageError,
  ChecksumMismatchError,
  ConnectError,
  ConnectionClosedError,
  DecodeError,
  DictInvalidError,
  DictTooDeepError,
  DictTooLargeError,
  EncryptionMismatchError,
  FileTooLargeError,
  FormatUnsupportedError,
  FrameKindError,
  FrameTooLargeError,
  FrameTruncatedError,
  IdInvalidError,
  InternalError,
  NameInvalidError,
  OffsetError,
  ProtocolError,
  ReceiptMismatchError,
  RejectedError,
  RemoteError,
  RemoteVersionError,
  ShuttingDownError,
  SizeMismatchError,
  StorageError,
  TimeoutError,
  TooManyConnectionsError,
  TooSlowError,
  UnexpectedMessageError,
  UnsafeIntegerError,
  VersionError,
  XmlForbiddenError,
  protocolErrorData,
  reviveProtocolError,
} from '../src/index';

/** One instance of every subclass with a fixed code. */
const INSTANCES: ProtocolError[] = [
  new FrameTooLargeError(5, 4),
  new FrameKindError(7),
  new FrameTruncatedError(3),
  new BadMessageError('bad'),
  new UnexpectedMessageError('ping', 'hello'),
  new VersionError(9, [1]),
  new AuthError(),
  new DictInvalidError('nan'),
  new DictTooDeepError(32),
  new DictTooLargeError(10, 5, 'nodes'),
  new FormatUnsupportedError('yaml'),
  new DecodeError('json', 'Unexpected end'),
  new XmlForbiddenError('DOCTYPE'),
  new UnsafeIntegerError('$.n', 2 ** 53),
  new IdInvalidError('-x'),
  new NameInvalidError('empty'),
  new FileTooLargeError(9, 8),
  new SizeMismatchError(2, 3),
  new ChecksumMismatchError('aa', 'bb'),
  new EncryptionMismatchError(),
  new OffsetError(4),
  new TooManyConnectionsError(20),
  new TimeoutError('idle', 60_000),
  new TooSlowError(1024, 10_000),
  new RejectedError(),
  new StorageError('disk full'),
  new ShuttingDownError(),
  new InternalError(),
  new ConnectError('refused'),
  new ConnectionClosedError(),
  new ReceiptMismatchError('size'),
  new AbortedError(),
];

/** Through a real MessagePort, as a worker's answer travels. */
function viaPort<T>(value: T): T {
  const { port1, port2 } = new MessageChannel();
  port1.postMessage(value);
  const got = receiveMessageOnPort(port2)?.message as T;
  port1.close();
  return got;
}

const fieldsOf = (err: Error): Record<string, unknown> => ({ ...err });

describe('protocolErrorData and reviveProtocolError', () => {
  it('cover every exported ProtocolError subclass but RemoteError and its own', () => {
    // A remote error's code is the peer's: it comes back as the class of that code (next tests).
    const exported = Object.values(protocol).filter(
      (v): v is typeof ProtocolError =>
        typeof v === 'function' &&
        v.prototype instanceof ProtocolError &&
        v !== RemoteError &&
        !(v.prototype instanceof RemoteError),
    );
    expect(new Set(INSTANCES.map((e) => e.constructor))).toEqual(new Set(exported));
  });

  it.each(INSTANCES.map((e) => [e.code, e] as const))(
    '%s comes back as the same class, message and fields',
    (_code, err) => {
      const revived = reviveProtocolError(viaPort(protocolErrorData(err)));
      expect(revived).toBeInstanceOf(err.constructor);
      expect(revived).toBeInstanceOf(ProtocolError);
      expect(revived).toBeInstanceOf(Error);
      expect(revived.message).toBe(err.message);
      expect(revived.name).toBe(err.name);
      expect(fieldsOf(revived)).toEqual(fieldsOf(err));
    },
  );

  it('a code without a class of its own comes back as a ProtocolError with that code', () => {
    const revived = reviveProtocolError(viaPort(protocolErrorData(new RemoteError('ERR_FUTURE', 'from a newer peer'))));
    expect(revived).toBeInstanceOf(ProtocolError);
    expect(revived).toMatchObject({ code: 'ERR_FUTURE', message: 'from a newer peer', remote: true });
  });

  it("the server's ERR_VERSION comes back with its list of versions, as the class of its code", () => {
    const err = new RemoteVersionError('protocol version 2 is not supported; supported: 1', [1]);
    const revived = reviveProtocolError(viaPort(protocolErrorData(err)));
    expect(revived).toBeInstanceOf(VersionError);
    expect(revived).toMatchObject({ code: 'ERR_VERSION', message: err.message, supported: [1], remote: true });
  });

  it('a plain structured clone would not do: it loses the class and the code', () => {
    const cloned = viaPort(new DictTooDeepError(32)) as unknown as { code?: string };
    expect(cloned).not.toBeInstanceOf(ProtocolError);
    expect(cloned.code).toBeUndefined();
  });
});
