/**
 * `send-dict`: one dictionary, given as a JSON object (`--data`, or `--data-file`, `-` for standard input), sent
 * in the chosen wire format.
 */
import { readFile } from 'node:fs/promises';
import { UsageError } from '@proj/cli-kit';
import type { Dict } from '@proj/protocol';
import type { Io } from '../cli-io';
import { ExitCode } from '../errors';
import { Link } from '../link';
import {
  mustBeFile,
  parseDictData,
  parseFormat,
  parseId,
  resolveRetry,
  resolveTarget,
  type ConnectionFlags,
} from '../options';
import { putDict } from '../put';
import { readStdinText } from '../stdin';
import { noticeLine, printReceipt, retryNotice } from './print';

export interface SendDictFlags extends ConnectionFlags {
  format: string;
  data?: string;
  dataFile?: string;
  id?: string;
}

export async function sendDictCommand(flags: SendDictFlags, io: Io): Promise<ExitCode> {
  const format = parseFormat(flags.format);
  const id = flags.id !== undefined ? parseId(flags.id) : undefined;
  if ((flags.data === undefined) === (flags.dataFile === undefined)) {
    throw new UsageError('give the dictionary with exactly one of --data or --data-file');
  }
  let dict: Dict;
  if (flags.data !== undefined) {
    dict = parseDictData(flags.data, '--data');
  } else {
    const file = flags.dataFile as string;
    if (file !== '-') await mustBeFile(file, '--data-file');
    const text = file === '-' ? await readStdinText(io.stdin, 'send-dict --data-file -') : await readFile(file, 'utf8');
    dict = parseDictData(text, `--data-file ${file}`);
  }
  const target = await resolveTarget(flags, io.env);
  const link = new Link(target, {
    policy: resolveRetry(flags, io.env),
    signal: io.signal,
    onRetry: retryNotice(io, flags),
    onNotice: noticeLine(io),
  });
  try {
    const result = await putDict(link, dict, format, id);
    printReceipt(io, flags, result);
    return ExitCode.Ok;
  } finally {
    await link.close();
  }
}
