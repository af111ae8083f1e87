/**
 * Tunes V8's heap for the server program (./heap.ts): imported by ./main.ts before any other module, so that the
 * young generation has not grown yet.
 */
import { tuneHeap } from './heap';

tuneHeap();
