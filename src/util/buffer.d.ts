// Node's Buffer has latin1Slice/latin1Write (used by Buffer#toString('latin1') internally); they
// skip the encoding dispatch on the hot path. @types/node does not declare them.
declare module 'buffer' {
  interface Buffer {
    latin1Slice(start?: number, end?: number): string;
    latin1Write(s: string, offset?: number, length?: number): number;
  }
}
export {};
