/** The node flags of a child that runs `import` under a hard heap cap (see import-flags.js). */
export function importNodeFlags(heapMb: number): string[];
/** Sets the import's heap growing on the running process (see import-flags.js). */
export function importHeapGrowing(): void;
