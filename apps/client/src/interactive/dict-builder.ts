/**
 * Building a dictionary at the prompt: entries one by one, values of every kind, nested dictionaries and lists
 * in sub-menus, JSON pasted for a value or the whole dictionary, review, edit, remove. Esc goes back one step
 * everywhere (a nested menu back to its parent, the root menu back to the main menu with the draft kept). The
 * changes themselves are the pure functions of `draft.ts`.
 */
import type { DictFormat } from '@proj/protocol';
import type { Choice, Prompter } from '../prompts';
import { askUntilValid } from './ask';
import { BACK, type Back, orBack } from './back';
import {
  appendItem,
  checkNewKey,
  emptyDict,
  emptyList,
  entryCount,
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
import { pasteDict, parseValueJson } from './paste-json';
import { childPath, pickIndex, pickKey } from './pick';
import type { Ui } from './ui';

type DictAction = 'add' | 'paste' | 'edit' | 'remove' | 'review' | 'done' | 'back' | 'discard';
type ListAction = 'add' | 'edit' | 'remove' | 'review' | 'done';

/** How the dictionary menu ended: done (send it), back to the main menu with the draft kept, or discarded. */
export type DictOutcome = { kind: 'done'; draft: DraftDict } | { kind: 'back'; draft: DraftDict } | { kind: 'discard' };

/**
 * Runs the dictionary menu until the person is done, goes back to the main menu (Esc or "Back"; the draft is
 * returned to be kept), or discards the draft (after confirming when it has entries). `start` resumes a draft.
 */
export async function buildDictionary(
  prompter: Prompter,
  ui: Ui,
  start: DraftDict = emptyDict(),
): Promise<DictOutcome> {
  if (start.entries.length === 0) {
    ui.info(
      'New dictionary. Add entries one by one (or paste JSON); choose "Done" to pick a format and send it. ' +
        'Esc goes back one step.',
    );
  }
  return editRoot(prompter, ui, start);
}

/** The three formats, by the names people know. `binary` is protobuf (google.protobuf.Struct) on the wire. */
export const FORMAT_CHOICES: readonly Choice<DictFormat>[] = [
  { name: 'protobuf', message: 'binary', hint: 'protobuf Struct, compact' },
  { name: 'json', message: 'JSON' },
  { name: 'xml', message: 'XML' },
];

/** Asks the format; Esc rejects with GoBack (the caller goes back to the dictionary). */
export async function chooseFormat(prompter: Prompter): Promise<DictFormat> {
  return prompter.select({
    name: 'dict.format',
    message: 'Send it in which format? (Esc: back to the dictionary)',
    choices: FORMAT_CHOICES,
    initial: 'json',
  });
}

function where(path: string): string {
  return path === '' ? 'the dictionary' : path;
}

/** Returns the whole dictionary with a value in one place; pasted JSON is checked against the whole tree. */
type Place<T> = (value: T) => DraftDict;

async function editRoot(prompter: Prompter, ui: Ui, start: DraftDict): Promise<DictOutcome> {
  let dict = start;
  for (;;) {
    const outcome = await editDict(prompter, ui, dict, '', (d) => d, true);
    dict = outcome.draft;
    if (outcome.action === 'done') return { kind: 'done', draft: dict };
    if (outcome.action === 'back') return { kind: 'back', draft: dict };
    // discard
    if (dict.entries.length === 0) return { kind: 'discard' };
    const sure = await orBack(
      prompter.confirm({
        name: 'dict.discard',
        message: `Discard the dictionary and its ${entryCount(dict.entries.length)}? Nothing will be sent.`,
        initial: false,
      }),
    );
    if (sure === true) return { kind: 'discard' };
    ui.info('Kept.');
  }
}

/**
 * One dictionary's menu. A nested one ends with "Done" or Esc, both back to its parent with the changes kept;
 * the root one also ends with "Back", Esc (both keep the draft) or "Discard" (confirmed by the caller).
 */
async function editDict(
  prompter: Prompter,
  ui: Ui,
  start: DraftDict,
  path: string,
  place: Place<DraftDict>,
  root: boolean,
): Promise<{ action: 'done' | 'back' | 'discard'; draft: DraftDict }> {
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
    if (root) {
      choices.splice(1, 0, {
        name: 'paste',
        message: 'Paste the whole dictionary as JSON',
        ...(empty ? {} : { hint: `replaces the ${entryCount(dict.entries.length)}` }),
      });
      choices.push(
        { name: 'back', message: 'Back to the main menu', hint: 'the draft is kept' },
        { name: 'discard', message: 'Discard this dictionary' },
      );
    }
    const action = await orBack(
      prompter.select({
        name: root ? 'dict.action' : 'dict.nested.action',
        message: `${capitalize(where(path))} (${entryCount(dict.entries.length)}): what next?`,
        choices,
      }),
    );
    if (action === BACK) return { action: root ? 'back' : 'done', draft: dict };
    switch (action) {
      case 'add': {
        const added = await addEntry(prompter, ui, dict, path, place);
        if (added !== BACK) dict = added;
        break;
      }
      case 'paste': {
        const pasted = await pasteDict(prompter, ui, dict);
        if (pasted !== BACK) dict = pasted;
        break;
      }
      case 'edit': {
        const key = await orBack(pickKey(prompter, dict, 'dict.edit.key', 'Edit which entry?'));
        if (key === BACK) break;
        const current = getEntry(dict, key) as DraftValue;
        const at = dict;
        const value = await orBack(
          editValue(prompter, ui, current, childPath(path, key), (v) => place(setEntry(at, key, v))),
        );
        if (value === BACK) break;
        dict = setEntry(dict, key, value);
        ui.info(`${JSON.stringify(key)} is now ${summarize(value)}`);
        break;
      }
      case 'remove': {
        const key = await orBack(pickKey(prompter, dict, 'dict.remove.key', 'Remove which entry?'));
        if (key === BACK) break;
        dict = removeEntry(dict, key);
        ui.info(`Removed ${JSON.stringify(key)}`);
        break;
      }
      case 'review':
        ui.info(renderDraft(dict));
        break;
      case 'done':
      case 'back':
      case 'discard':
        return { action, draft: dict };
    }
  }
}

/** Key, then value; Esc (or an empty key) at the key goes back to the menu, Esc at the value to the key. */
async function addEntry(
  prompter: Prompter,
  ui: Ui,
  dict: DraftDict,
  path: string,
  place: Place<DraftDict>,
): Promise<DraftDict | Back> {
  let initial: string | undefined;
  for (;;) {
    const key = await orBack(
      askUntilValid<string>(
        prompter,
        {
          name: 'dict.key',
          message: `Key of the new entry in ${where(path)} (empty or Esc: back)`,
          ...(initial !== undefined ? { initial } : {}),
        },
        (k) => {
          const error = checkNewKey(dict, k);
          return error === undefined ? { value: k } : { error };
        },
        { emptyGoesBack: true },
      ),
    );
    if (key === BACK) return BACK;
    const value = await orBack(askValue(prompter, ui, childPath(path, key), (v) => place(setEntry(dict, key, v))));
    if (value === BACK) {
      initial = key;
      continue;
    }
    ui.info(`Added ${JSON.stringify(key)}: ${summarize(value)}`);
    return setEntry(dict, key, value);
  }
}

async function editList(
  prompter: Prompter,
  ui: Ui,
  start: DraftList,
  path: string,
  place: Place<DraftList>,
): Promise<DraftList> {
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
    const action = await orBack(
      prompter.select({
        name: 'list.action',
        message: `List ${path} (${count}): what next?`,
        choices,
      }),
    );
    if (action === BACK) return list;
    const at = list;
    switch (action) {
      case 'add': {
        const value = await orBack(
          askValue(prompter, ui, `${path}[${list.items.length}]`, (v) => place(appendItem(at, v))),
        );
        if (value === BACK) break;
        list = appendItem(list, value);
        ui.info(`Added ${path}[${list.items.length - 1}]: ${summarize(value)}`);
        break;
      }
      case 'edit': {
        const index = await orBack(pickIndex(prompter, list, 'list.edit.index', 'Edit which item?'));
        if (index === BACK) break;
        const value = await orBack(
          editValue(prompter, ui, list.items[index] as DraftValue, `${path}[${index}]`, (v) =>
            place(setItem(at, index, v)),
          ),
        );
        if (value === BACK) break;
        list = setItem(list, index, value);
        break;
      }
      case 'remove': {
        const index = await orBack(pickIndex(prompter, list, 'list.remove.index', 'Remove which item?'));
        if (index === BACK) break;
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

type KindChoice = ValueKind | 'json';

const KIND_CHOICES: readonly Choice<KindChoice>[] = [
  { name: 'text', message: 'text' },
  { name: 'number', message: 'number' },
  { name: 'true', message: 'true' },
  { name: 'false', message: 'false' },
  { name: 'null', message: 'null' },
  { name: 'dictionary', message: 'dictionary', hint: 'nested, with its own entries' },
  { name: 'list', message: 'list', hint: 'a sequence of values' },
  { name: 'json', message: 'JSON', hint: 'type or paste any value at once: [1, 2], {"a": 1}, "text"' },
];

/**
 * Asks for a new value: its kind, then what that kind needs. Esc at the kind rejects with GoBack (the caller
 * steps back); Esc at the text, number or JSON question comes back to the kind.
 */
export async function askValue(
  prompter: Prompter,
  ui: Ui,
  path: string,
  place: Place<DraftValue> = () => emptyDict(),
): Promise<DraftValue> {
  for (;;) {
    const kind = await prompter.select({
      name: 'value.kind',
      message: `Type of the value of ${path}`,
      choices: KIND_CHOICES,
    });
    const value = await orBack(askOfKind(prompter, ui, kind, path, place));
    if (value !== BACK) return value;
  }
}

async function askOfKind(
  prompter: Prompter,
  ui: Ui,
  kind: KindChoice,
  path: string,
  place: Place<DraftValue>,
): Promise<DraftValue> {
  switch (kind) {
    case 'text':
      return prompter.text({ name: 'value.text', message: `Text for ${path}` });
    case 'number':
      return askUntilValid<number>(prompter, { name: 'value.number', message: `Number for ${path}` }, (answer) => {
        const parsed = parseNumber(answer);
        return parsed.ok ? { value: parsed.value } : { error: parsed.message };
      });
    case 'json':
      return askUntilValid<DraftValue>(prompter, { name: 'value.json', message: `JSON for ${path}` }, (answer) =>
        parseValueJson(answer, place),
      );
    case 'true':
      return true;
    case 'false':
      return false;
    case 'null':
      return null;
    case 'dictionary':
      return (await editDict(prompter, ui, emptyDict(), path, place, false)).draft;
    case 'list':
      return editList(prompter, ui, emptyList(), path, place);
  }
}

/**
 * A nested dictionary or list opens in its sub-menu (or is replaced); anything else is asked again. Esc before
 * anything changed rejects with GoBack.
 */
async function editValue(
  prompter: Prompter,
  ui: Ui,
  current: DraftValue,
  path: string,
  place: Place<DraftValue>,
): Promise<DraftValue> {
  if (isDraftDict(current) || isDraftList(current)) {
    const how = await prompter.select({
      name: 'edit.mode',
      message: `${path} is a ${kindOf(current)}`,
      choices: [
        { name: 'inside', message: `Edit its ${isDraftDict(current) ? 'entries' : 'items'}` },
        { name: 'replace', message: 'Replace it with another value' },
      ] as const,
    });
    if (how === 'replace') return askValue(prompter, ui, path, place);
    return isDraftDict(current)
      ? (await editDict(prompter, ui, current, path, place, false)).draft
      : editList(prompter, ui, current, path, place);
  }
  ui.info(`${path} is ${summarize(current)} (${kindOf(current)})`);
  return askValue(prompter, ui, path, place);
}

function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}
