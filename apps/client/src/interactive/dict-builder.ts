/**
 * Building a dictionary at the prompt: entries one by one, values of every kind, nested dictionaries and lists
 * in sub-menus, review, edit, remove. The changes themselves are the pure functions of `draft.ts`.
 */
import type { DictFormat } from '@proj/protocol';
import type { Choice, Prompter } from '../prompts';
import { askUntilValid } from './ask';
import {
  appendItem,
  checkNewKey,
  emptyDict,
  emptyList,
  getEntry,
  isDraftDict,
  isDraftList,
  kindOf,
  parseNumber,
  removeEntry,
  removeItem,
  renderDraft,
  setEntry,
  setItem,
  summarize,
  type DraftDict,
  type DraftList,
  type DraftValue,
  type ValueKind,
} from './draft';
import type { Ui } from './ui';

type DictAction = 'add' | 'edit' | 'remove' | 'review' | 'done' | 'discard';
type ListAction = 'add' | 'edit' | 'remove' | 'review' | 'done';

/**
 * Runs the dictionary menu until the person is done (returns the draft) or discards it (returns undefined).
 * `start` lets a caller resume a draft.
 */
export async function buildDictionary(
  prompter: Prompter,
  ui: Ui,
  start: DraftDict = emptyDict(),
): Promise<DraftDict | undefined> {
  ui.info('New dictionary. Add entries one by one; choose "Done" to pick a format and send it.');
  return editDict(prompter, ui, start, '', true);
}

/** The three formats, by the names people know. `binary` is protobuf (google.protobuf.Struct) on the wire. */
export const FORMAT_CHOICES: readonly Choice<DictFormat>[] = [
  { name: 'protobuf', message: 'binary', hint: 'protobuf Struct, compact' },
  { name: 'json', message: 'JSON' },
  { name: 'xml', message: 'XML' },
];

export async function chooseFormat(prompter: Prompter): Promise<DictFormat> {
  return prompter.select({
    name: 'dict.format',
    message: 'Send it in which format?',
    choices: FORMAT_CHOICES,
    initial: 'json',
  });
}

function where(path: string): string {
  return path === '' ? 'the dictionary' : path;
}

async function editDict(
  prompter: Prompter,
  ui: Ui,
  start: DraftDict,
  path: string,
  root: boolean,
): Promise<DraftDict | undefined> {
  let dict = start;
  for (;;) {
    const empty = dict.entries.length === 0;
    const choices: Choice<DictAction>[] = [
      { name: 'add', message: 'Add an entry' },
      { name: 'edit', message: 'Edit an entry', ...(empty ? { disabled: 'no entries yet' } : {}) },
      { name: 'remove', message: 'Remove an entry', ...(empty ? { disabled: 'no entries yet' } : {}) },
      { name: 'review', message: 'Review' },
      { name: 'done', message: root ? 'Done: choose the format and send' : `Done with ${path}` },
    ];
    if (root) choices.push({ name: 'discard', message: 'Discard this dictionary' });
    const count = `${dict.entries.length} ${dict.entries.length === 1 ? 'entry' : 'entries'}`;
    const action = await prompter.select({
      name: root ? 'dict.action' : 'dict.nested.action',
      message: `${capitalize(where(path))} (${count}): what next?`,
      choices,
    });
    switch (action) {
      case 'add': {
        const key = await askUntilValid<string>(
          prompter,
          ui,
          { name: 'dict.key', message: `Key of the new entry in ${where(path)}` },
          (k) => {
            const error = checkNewKey(dict, k);
            return error === undefined ? { value: k } : { error };
          },
        );
        const value = await askValue(prompter, ui, join(path, key));
        dict = setEntry(dict, key, value);
        ui.info(`Added ${JSON.stringify(key)}: ${summarize(value)}`);
        break;
      }
      case 'edit': {
        const key = await pickKey(prompter, dict, 'dict.edit.key', 'Edit which entry?');
        const current = getEntry(dict, key) as DraftValue;
        const value = await editValue(prompter, ui, current, join(path, key));
        dict = setEntry(dict, key, value);
        ui.info(`${JSON.stringify(key)} is now ${summarize(value)}`);
        break;
      }
      case 'remove': {
        const key = await pickKey(prompter, dict, 'dict.remove.key', 'Remove which entry?');
        dict = removeEntry(dict, key);
        ui.info(`Removed ${JSON.stringify(key)}`);
        break;
      }
      case 'review':
        ui.info(renderDraft(dict));
        break;
      case 'done':
        return dict;
      case 'discard':
        return undefined;
    }
  }
}

async function editList(prompter: Prompter, ui: Ui, start: DraftList, path: string): Promise<DraftList> {
  let list = start;
  for (;;) {
    const empty = list.items.length === 0;
    const choices: Choice<ListAction>[] = [
      { name: 'add', message: 'Add an item' },
      { name: 'edit', message: 'Edit an item', ...(empty ? { disabled: 'no items yet' } : {}) },
      { name: 'remove', message: 'Remove an item', ...(empty ? { disabled: 'no items yet' } : {}) },
      { name: 'review', message: 'Review' },
      { name: 'done', message: `Done with ${path}` },
    ];
    const count = `${list.items.length} ${list.items.length === 1 ? 'item' : 'items'}`;
    const action = await prompter.select({
      name: 'list.action',
      message: `List ${path} (${count}): what next?`,
      choices,
    });
    switch (action) {
      case 'add': {
        const value = await askValue(prompter, ui, `${path}[${list.items.length}]`);
        list = appendItem(list, value);
        ui.info(`Added ${path}[${list.items.length - 1}]: ${summarize(value)}`);
        break;
      }
      case 'edit': {
        const index = await pickIndex(prompter, list, 'list.edit.index', 'Edit which item?');
        const value = await editValue(prompter, ui, list.items[index] as DraftValue, `${path}[${index}]`);
        list = setItem(list, index, value);
        break;
      }
      case 'remove': {
        const index = await pickIndex(prompter, list, 'list.remove.index', 'Remove which item?');
        list = removeItem(list, index);
        ui.info(`Removed ${path}[${index}]`);
        break;
      }
      case 'review':
        ui.info(renderDraft(list));
        break;
      case 'done':
        return list;
    }
  }
}

const KIND_CHOICES: readonly Choice<ValueKind>[] = [
  { name: 'text', message: 'text' },
  { name: 'number', message: 'number' },
  { name: 'true', message: 'true' },
  { name: 'false', message: 'false' },
  { name: 'null', message: 'null' },
  { name: 'dictionary', message: 'dictionary', hint: 'nested, with its own entries' },
  { name: 'list', message: 'list', hint: 'a sequence of values' },
];

/** Asks for a new value: its kind, then what that kind needs. */
export async function askValue(prompter: Prompter, ui: Ui, path: string): Promise<DraftValue> {
  const kind = await prompter.select({
    name: 'value.kind',
    message: `Type of the value of ${path}`,
    choices: KIND_CHOICES,
  });
  switch (kind) {
    case 'text':
      return prompter.text({ name: 'value.text', message: `Text for ${path}` });
    case 'number':
      return askUntilValid<number>(prompter, ui, { name: 'value.number', message: `Number for ${path}` }, (answer) => {
        const parsed = parseNumber(answer);
        return parsed.ok ? { value: parsed.value } : { error: parsed.message };
      });
    case 'true':
      return true;
    case 'false':
      return false;
    case 'null':
      return null;
    case 'dictionary':
      return (await editDict(prompter, ui, emptyDict(), path, false)) as DraftDict;
    case 'list':
      return editList(prompter, ui, emptyList(), path);
  }
}

/** A nested dictionary or list opens in its sub-menu (or is replaced); anything else is asked again. */
async function editValue(prompter: Prompter, ui: Ui, current: DraftValue, path: string): Promise<DraftValue> {
  if (isDraftDict(current) || isDraftList(current)) {
    const how = await prompter.select({
      name: 'edit.mode',
      message: `${path} is a ${kindOf(current)}`,
      choices: [
        { name: 'inside', message: `Edit its ${isDraftDict(current) ? 'entries' : 'items'}` },
        { name: 'replace', message: 'Replace it with another value' },
      ] as const,
    });
    if (how === 'replace') return askValue(prompter, ui, path);
    return isDraftDict(current)
      ? ((await editDict(prompter, ui, current, path, false)) as DraftDict)
      : editList(prompter, ui, current, path);
  }
  ui.info(`${path} is ${summarize(current)} (${kindOf(current)})`);
  return askValue(prompter, ui, path);
}

async function pickKey(prompter: Prompter, dict: DraftDict, name: string, message: string): Promise<string> {
  // Choice names must be unique strings; keys are, within one dictionary. An index keeps odd keys (empty
  // after trimming, control characters) unambiguous on screen.
  const choices = dict.entries.map((e, i) => ({
    name: String(i),
    message: JSON.stringify(e.key),
    hint: summarize(e.value),
  }));
  const picked = await prompter.select({ name, message, choices });
  return (dict.entries[Number(picked)] as { key: string }).key;
}

async function pickIndex(prompter: Prompter, list: DraftList, name: string, message: string): Promise<number> {
  const choices = list.items.map((v, i) => ({ name: String(i), message: `[${i}]`, hint: summarize(v) }));
  return Number(await prompter.select({ name, message, choices }));
}

function join(path: string, key: string): string {
  const segment = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? key : JSON.stringify(key);
  return path === '' ? segment : /^[A-Za-z_$]/.test(segment) ? `${path}.${segment}` : `${path}[${segment}]`;
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
