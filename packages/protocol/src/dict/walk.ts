/**
 * An iterative, in-order walk over a validated dictionary, shared by the three encoders.
 *
 * Encoders see events (open, scalar, close) instead of recursing, so a caller that raises `maxDictDepth` far
 * above the default still cannot overflow the JS stack while encoding.
 */
import type { Dict, DictValue } from './model';

export type DictScalar = string | number | boolean | null;

/** Receives the events of `walkDict`. `key` is the member's key inside an object, undefined inside an array. */
export interface DictVisitor {
  /** A container starts. `depth` is 1 for the root object. */
  open(key: string | undefined, kind: 'object' | 'array', depth: number): void;
  scalar(key: string | undefined, value: DictScalar): void;
  /** The container opened last ends. */
  close(kind: 'object' | 'array', depth: number): void;
}

interface Frame {
  kind: 'object' | 'array';
  node: Dict | DictValue[];
  keys: string[] | undefined;
  next: number;
}

/** Visits `root` depth-first, keys in own-property order (`Object.keys`), array items in index order. */
export function walkDict(root: Dict, visitor: DictVisitor): void {
  const stack: Frame[] = [];
  const enter = (key: string | undefined, value: DictValue): void => {
    if (Array.isArray(value)) {
      visitor.open(key, 'array', stack.length + 1);
      stack.push({ kind: 'array', node: value, keys: undefined, next: 0 });
    } else if (value !== null && typeof value === 'object') {
      visitor.open(key, 'object', stack.length + 1);
      stack.push({ kind: 'object', node: value, keys: Object.keys(value), next: 0 });
    } else {
      visitor.scalar(key, value);
    }
  };
  enter(undefined, root);
  while (stack.length > 0) {
    const top = stack[stack.length - 1] as Frame;
    if (top.keys !== undefined) {
      const key = top.keys[top.next++];
      if (key !== undefined) {
        enter(key, (top.node as Dict)[key] as DictValue);
        continue;
      }
    } else {
      const items = top.node as DictValue[];
      if (top.next < items.length) {
        enter(undefined, items[top.next++] as DictValue);
        continue;
      }
    }
    stack.pop();
    visitor.close(top.kind, stack.length + 1);
  }
}
