/**
 * JSON typed or pasted at the prompt: a whole dictionary (asked here), or one value for an entry or a list item
 * (asked by dict-builder.ts). Both are read by the protocol's own JSON decoder and checked by its dictionary
 * rules (@proj/protocol/dict), so a paste is refused with the same codes and messages as `send-dict --data`
 * (docs/PROTOCOL.md §5).
 */
import { isProtocolError } from '@proj/protocol';
import { decodeJson, validateDict } from '@proj/protocol/dict';
import { describeError } from '../errors';
import type { Prompter } from '../prompts';
import type { CheckResult } from './ask';
import { BACK, type Back, orBack } from './back';
import { entryCount, fromDict, fromDictValue, toDict, type DraftDict, type DraftValue } from './draft';
import type { Ui } from './ui';

const encoder = new TextEncoder();

/** The whole dictionary pasted as JSON; replacing entries already there is confirmed. */
export async function pasteDict(prompter: Prompter, ui: Ui, dict: DraftDict): Promise<DraftDict | Back> {
  for (;;) {
    const lines = await orBack(
      prompter.lines({ name: 'dict.paste', message: 'Paste or type the dictionary as JSON (an object: {…})' }),
    );
    if (lines === BACK || lines.join('').trim() === '') return BACK;
    const parsed = parseDictJson(lines.join('\n'));
    if ('error' in parsed) {
      ui.warn(`${parsed.error}. Paste it again, or press Esc to go back.`);
      continue;
    }
    const pasted = parsed.value;
    if (dict.entries.length > 0) {
      const sure = await orBack(
        prompter.confirm({
          name: 'dict.paste.replace',
          message: `Replace the ${entryCount(dict.entries.length)} with the ${entryCount(pasted.entries.length)} pasted?`,
          initial: true,
        }),
      );
      if (sure !== true) {
        ui.info('Kept the dictionary as it was.');
        return BACK;
      }
    }
    ui.info(`Pasted ${entryCount(pasted.entries.length)}.`);
    return pasted;
  }
}

/** Reads a whole dictionary (an object at the root). */
export function parseDictJson(text: string): CheckResult<DraftDict> {
  try {
    return { value: fromDict(decodeJson(encoder.encode(text))) };
  } catch (err) {
    return { error: describeError(err) };
  }
}

/**
 * Reads one value and checks it where it will go: `place` returns the whole dictionary with the value in its
 * place, so nesting and size are counted from the root and an error names the value's full path (`$.a.b[2]`).
 */
export function parseValueJson(text: string, place: (value: DraftValue) => DraftDict): CheckResult<DraftValue> {
  const read = readJsonValue(text);
  if ('error' in read) return read;
  const value = fromDictValue(read.value as never);
  try {
    validateDict(toDict(place(value)));
  } catch (err) {
    return { error: describeError(err) };
  }
  return { value };
}

function readJsonValue(text: string): CheckResult<unknown> {
  try {
    return { value: decodeJson(encoder.encode(text)) };
  } catch (err) {
    // The decoder checks size, encoding, nesting and syntax before it asks for an object at the root. A value
    // that got that far and is not an object (a number, a list) is what was asked for: it is read here, and the
    // tree it joins is checked by the caller.
    if (!isProtocolError(err, 'ERR_DICT_INVALID')) return { error: describeError(err) };
    const value: unknown = JSON.parse(text);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return { error: describeError(err) };
    return { value };
  }
}
