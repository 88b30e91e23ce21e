/**
 * Zeroed buffers whose first byte starts a cache line, for per-device records laid out line by
 * line (fleet/device-table.ts: a report touches the record's first 64 bytes only). A plain
 * ArrayBuffer is only 16-byte aligned (Node takes it from calloc; a large one is mmapped memory
 * past malloc's 16-byte chunk header), so a 128-byte record usually straddles three lines and its
 * "hot" half two. A WebAssembly memory's buffer starts on a page (V8 reserves it through its page
 * allocator), so records at multiples of 64 bytes from it start lines.
 */

/** Cache line of the x86-64 and arm64 CPUs fleetsim runs on, bytes. */
export const CACHE_LINE_BYTES = 64;
const WASM_PAGE_BYTES = 65_536;
/** wasm32 memories end at 2^16 pages (4 GiB). */
const WASM_MAX_PAGES = 65_536;
/**
 * Smaller buffers are plain ArrayBuffers: a table of a few thousand records stays in cache
 * whatever its alignment, and each WebAssembly memory reserves gigabytes of address space (guard
 * regions), which thousands of small tables (unit tests) would exhaust.
 */
export const LINE_ALIGNED_FROM_BYTES = 1 << 20;

/** The part of the WebAssembly API used here (not in the ES2022 lib). */
interface WasmMemoryConstructor {
  new (descriptor: { initial: number; maximum?: number }): { readonly buffer: ArrayBuffer };
}

/**
 * A zeroed buffer of at least `bytes`, starting on a cache line when `bytes` is at least
 * LINE_ALIGNED_FROM_BYTES (and under 4 GiB); view only its first `bytes`.
 */
export function lineAlignedBuffer(bytes: number): ArrayBuffer {
  const pages = Math.ceil(bytes / WASM_PAGE_BYTES);
  const Memory = (globalThis as unknown as { WebAssembly?: { Memory: WasmMemoryConstructor } }).WebAssembly?.Memory;
  if (bytes < LINE_ALIGNED_FROM_BYTES || pages > WASM_MAX_PAGES || Memory === undefined) return new ArrayBuffer(bytes);
  return new Memory({ initial: pages, maximum: pages }).buffer;
}
