// How the process that runs `import` manages its heap (bin/healthexport.js; bench/measure.ts
// when profiling).
//
// --heap-growing-percent=100: after each full GC V8 lets the old generation grow to twice its
// live set. Its own heuristics let it grow to several times that (the 1.07 GB import without
// the flag: 315 MB peak RSS, against 244 MB with it), and under a small --max-old-space-size
// only to 1.3x, which left less room than the young generation and kept it marking all the time
// (89 full GCs in a 314 MB Apple dry run, 13 with 2x). It is read at every GC, so the import
// sets it on itself (importHeapGrowing) and needs no second process: measured 2026-12-01, three
// alternated pairs of the 1.07 GB import, peak RSS 245 / 244 / 236 MB for the one process
// against 287 / 288 / 283 MB for the capped child and its parent; 314 MB Apple import, seven
// pairs, 194-220 against 238-261 MB; wall time within the noise (Apple: +0.04 s on average).
//
// --max-old-space-size (HEALTHEXPORT_MAX_HEAP_MB=N): a hard cap, only on request. V8 fixes it
// when a process starts, so the import then runs in a child started with it, and an import
// that reaches it ends with one line saying how to raise it.
import v8 from 'node:v8';

const HEAP_GROWING = '--heap-growing-percent=100';

export function importNodeFlags(heapMb) {
  return [`--max-old-space-size=${heapMb}`, HEAP_GROWING];
}

export function importHeapGrowing() {
  v8.setFlagsFromString(HEAP_GROWING);
}
