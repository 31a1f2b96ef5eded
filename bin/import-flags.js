// The node flags of the process that runs `import` (bin/healthexport.js spawns it with them;
// bench/measure.ts runs it directly with them when profiling).
//
// --max-old-space-size: V8 otherwise lets the old generation grow to several times the live set
// (under 100 MB) before compacting: a 1 GB export peaked at 450 MB RSS uncapped, under 300 MB
// capped, at the same speed. The cap leaves room for the largest single record (a workout with a
// long route needs tens of MB).
//
// --heap-growing-percent: under a cap that small V8 grows the old generation by only 1.3x its
// live set after each full GC, which leaves less room than the young generation's size, so it
// starts marking again at once: an import spent nearly all its time with incremental marking on
// (89 full GCs in an Apple dry run of 314 MB, 13 with 2x). Measured 2026-12-01: 314 MB Apple
// import 8.7 -> 7.4-7.7 s (node CPU 8.4 -> 6.8 s), 1 GB HAE 37.8/33.3 -> 31.4/32.7 s (node CPU
// 23.8/22.3 -> 19.3/20.4 s) for +20 MB peak RSS; 3x was a little faster again but reached 303 MB.
export function importNodeFlags(heapMb) {
  return [`--max-old-space-size=${heapMb}`, '--heap-growing-percent=100'];
}
