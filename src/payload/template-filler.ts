import type { DeviceFieldSource } from './device-fields.js';
import { Generators } from './generators.js';
import { MAX_NUMBER_BYTES, writeFixed } from './number-writer.js';
import { BINARY_SIZES, BUILTIN_NAMES, GENERATOR_BASE, jsonStringBytes, Op, writeBinaryNumber, type CompiledTemplate } from './template-compile.js';

export interface FillerOptions {
  seed: number;
  /** Global index of local device 0, and how many devices this shard has. */
  firstDevice: number;
  devices: number;
  /** Epoch ms of run time 0 (`{{ts}}` = epochMs + intended time); the template's own epoch wins. */
  epochMs: number;
  /** A device's serial is `<serialPrefix>-<global index>`. */
  serialPrefix: string;
  state: DeviceFieldSource;
}

const B = Object.fromEntries(BUILTIN_NAMES.map((n, i) => [n, i])) as Record<(typeof BUILTIN_NAMES)[number], number>;
const QUOTE = 0x22;
const INITIAL_BYTES = 512;

/**
 * Fills a compiled template for one message into a buffer it reuses: literals are copied, numbers
 * written digit by digit, strings taken from caches of their encoded bytes. Per message it
 * allocates only the returned view (the transports take a Buffer of the payload's length).
 * One filler per shard; not reentrant (the view is valid until the next fill).
 */
export class TemplateFiller {
  private buf: Buffer;
  private readonly gens: Generators;
  private epochMs: number;
  private readonly serialPrefix: Buffer;
  /** Encoded bytes of the strings device state answers with (link types, releases): a handful per run. */
  private readonly strings = new Map<string, Buffer>();

  constructor(
    private readonly t: CompiledTemplate,
    private readonly opts: FillerOptions,
  ) {
    this.buf = Buffer.allocUnsafe(t.format === 'binary' ? t.binaryBytes : INITIAL_BYTES);
    this.gens = new Generators(t.generators, opts.seed, opts.firstDevice, opts.devices);
    this.epochMs = t.epochMs ?? opts.epochMs;
    this.serialPrefix = jsonStringBytes(opts.serialPrefix + '-');
  }

  /** Run time 0 is `epochMs` (the wall clock's start instant), unless the template fixes its own epoch. */
  setEpoch(epochMs: number): void {
    if (this.t.epochMs === undefined) this.epochMs = epochMs;
  }

  /** The payload of message `seq` of local device `dev`, intended for run time `tMs`. Valid until the next call. */
  fill(dev: number, seq: number, tMs: number): Buffer {
    // Whole milliseconds, as {{time}} shows them: a payload can then be recomputed from itself.
    tMs = Math.floor(tMs);
    const t = this.t;
    const { kind, arg } = t;
    let at = 0;
    for (let i = 0; i < kind.length; i++) {
      const k = kind[i];
      if (k === Op.literal) {
        at = this.copyIn(at, t.literals[arg[i]]);
        continue;
      }
      const src = arg[i];
      if (k === Op.binary) {
        writeBinaryNumber(this.buf, at, t.binType[i], t.binLittle[i], this.number(src, dev, seq, tMs) * t.binScale[i]);
        at += BINARY_SIZES[t.binType[i]];
        continue;
      }
      const text = this.text(src, dev, seq);
      if (text === undefined) {
        at = this.ensure(at, MAX_NUMBER_BYTES);
        at = writeFixed(this.buf, at, this.number(src, dev, seq, tMs), t.decimals[i]);
        continue;
      }
      const quoted = k === Op.jsonValue;
      at = this.ensure(at, text.length + 2 + (src === B['device.serial'] ? MAX_NUMBER_BYTES : 0));
      if (quoted) this.buf[at++] = QUOTE;
      at = this.copyIn(at, text);
      if (src === B['device.serial']) at = writeFixed(this.buf, at, this.opts.firstDevice + dev, 0);
      if (quoted) this.buf[at++] = QUOTE;
    }
    return this.buf.subarray(0, at);
  }

  /** Copies `bytes` in at `at`; returns the offset after them. A loop: literals are short, and Buffer#copy's native call costs more than the bytes. */
  private copyIn(at: number, bytes: Buffer): number {
    at = this.ensure(at, bytes.length);
    const buf = this.buf;
    for (let j = 0; j < bytes.length; j++) buf[at + j] = bytes[j];
    return at + bytes.length;
  }

  /** Room for `more` bytes after `at` (JSON payloads vary in length; the buffer only grows). */
  private ensure(at: number, more: number): number {
    if (at + more > this.buf.length) {
      const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, at + more));
      this.buf.copy(next, 0, 0, at);
      this.buf = next;
    }
    return at;
  }

  /** Encoded bytes of a string-valued source (for the serial: its prefix), or undefined for a number. */
  private text(src: number, dev: number, seq: number): Buffer | undefined {
    if (src >= GENERATOR_BASE) {
      const field = (src - GENERATOR_BASE) >> 1;
      const strings = this.t.generatorStrings[field];
      if (strings === undefined) return undefined;
      return strings.length === 1 ? strings[0] : strings[this.gens.choiceIndex(field, dev, seq)];
    }
    switch (src) {
      case B['link.type']:
        return this.cached(this.opts.state.linkType(dev));
      case B.firmware:
        return this.cached(this.opts.state.release(dev));
      case B['device.serial']:
        return this.serialPrefix;
      default:
        return undefined;
    }
  }

  private cached(s: string): Buffer {
    let b = this.strings.get(s);
    if (b === undefined) {
      b = jsonStringBytes(s);
      this.strings.set(s, b);
    }
    return b;
  }

  private number(src: number, dev: number, seq: number, tMs: number): number {
    if (src >= GENERATOR_BASE) {
      const id = src - GENERATOR_BASE;
      return this.gens.value(id >> 1, id & 1, dev, seq, tMs);
    }
    const st = this.opts.state;
    switch (src) {
      case B.seq:
        return seq;
      case B.ts:
        return Math.floor(this.epochMs + tMs);
      case B.time:
        return Math.floor(tMs);
      case B.uptime:
        return Math.floor(st.uptimeMs(dev, tMs) / 1000);
      case B['battery.soc']:
        return st.stateOfCharge(dev, tMs) * 100;
      case B['battery.voltage']:
        return st.batteryVolts(dev, tMs);
      case B['link.rssi']:
        return st.signalDbm(dev, seq);
      case B['device.index']:
        return this.opts.firstDevice + dev;
      default:
        return 0;
    }
  }
}
