/** Picking an entry or an item in the builder's menus, and the paths they are shown by. */
import type { Prompter } from '../prompts';
import { summarize, type DraftDict, type DraftList } from './draft';

/** Picks an entry of a dictionary by its key; Esc rejects with GoBack. */
export async function pickKey(prompter: Prompter, dict: DraftDict, name: string, message: string): Promise<string> {
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

/** Picks an item of a list by its index; Esc rejects with GoBack. */
export async function pickIndex(prompter: Prompter, list: DraftList, name: string, message: string): Promise<number> {
  const choices = list.items.map((v, i) => ({ name: String(i), message: `[${i}]`, hint: summarize(v) }));
  return Number(await prompter.select({ name, message, choices }));
}

/** The path of an entry as the prompts show it: `a.b`, `a["odd key"]`, `key` at the root. */
export function childPath(path: string, key: string): string {
  const segment = /^[A-Za-z_$][A-Za-z0-9_$]*$/.test(key) ? key : JSON.stringify(key);
  return path === '' ? segment : /^[A-Za-z_$]/.test(segment) ? `${path}.${segment}` : `${path}[${segment}]`;
}
