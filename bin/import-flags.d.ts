/** The node flags of the process that runs `import` (see import-flags.js). */
export function importNodeFlags(heapMb: number): string[];
