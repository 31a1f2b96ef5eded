/**
 * Feeds a byte stream to saxes (a streaming SAX parser: no DOM, constant memory) and maps the
 * parser's character positions back to byte offsets of the input, for rejects and errors.
 *
 * Each write to the parser ends just after a `>`: the bytes after the last `>` of a chunk are
 * carried into the next write. So every tag that completes during a write also starts inside
 * that write's string, and a tag's text and byte offset can be recovered from it cheaply (only
 * on the reject path: the hot path never computes an offset).
 */
import { StringDecoder } from 'node:string_decoder';
import { SaxesParser, type SaxesOptions, type SaxesTagPlain } from 'saxes';
import { InputError } from '../errors.js';

export interface XmlHandlers {
  open(tag: SaxesTagPlain): void;
  close(tag: SaxesTagPlain): void;
  /** Text content; only wired when given (whitespace between elements costs a call each). */
  text?(t: string): void;
}

/** Carry-over without any `>` beyond this is written anyway (a pathological text node). */
const MAX_CARRY = 16 << 20;

export class XmlFeed {
  private readonly parser: SaxesParser<SaxesOptions>;
  private readonly decoder = new StringDecoder('utf8');
  private carry = '';
  private first = true;
  private ending = false;
  /** Bytes of the input before the current write string (BOM included). */
  private bytesBefore = 0;
  /** The current write string and the parser position of its first character. */
  private cur = '';
  private curStart = 0;
  private curAscii = true;
  private curBytes = 0;
  /** Characters written to the parser before the current write string. */
  private charsBefore = 0;
  /** Incremental char→byte cursor inside `cur` (positions asked for only grow within a write). */
  private cacheChar = 0;
  private cacheByte = 0;
  /** Bytes received so far (for the "ends early" offset). */
  bytesIn = 0;
  /** Errors saxes reports that are tolerated (e.g. the duplicate-attribute bug of iOS 16). */
  tolerated = 0;

  constructor(handlers: XmlHandlers) {
    this.parser = new SaxesParser({ xmlns: false, position: true });
    this.parser.on('opentag', handlers.open as (t: unknown) => void);
    this.parser.on('closetag', handlers.close as (t: unknown) => void);
    if (handlers.text) this.parser.on('text', handlers.text);
    this.parser.on('error', (err: Error) => this.onError(err));
  }

  private onError(err: Error): void {
    const reason = err.message.replace(/^[^:]*?:?\d+:\d+: /, '');
    // iOS 16 wrote some WorkoutStatistics with `startDate` twice (the second one being the end):
    // not well-formed, but harmless; the later value wins.
    if (reason.startsWith('duplicate attribute')) {
      this.tolerated++;
      return;
    }
    if (this.ending) {
      throw new InputError(`the XML ends early at byte ${this.bytesIn} (truncated file?): ${reason}`, { offset: this.bytesIn });
    }
    // The character the parser was looking at when it gave up.
    const offset = this.byteAt(Math.max(0, this.parser.position - 1));
    throw new InputError(
      `not well-formed XML at byte ${offset} (line ${this.parser.line}, column ${this.parser.column + 1}): ${reason}`,
      { offset },
    );
  }

  /** Parses one chunk of input; handlers run synchronously inside. Throws InputError. */
  push(buf: Buffer): void {
    this.bytesIn += buf.length;
    let s = this.decoder.write(buf);
    if (this.first && s.length > 0) {
      this.first = false;
      if (s.charCodeAt(0) === 0xfeff) {
        s = s.slice(1);
        this.bytesBefore += 3;
      }
    }
    const text = this.carry.length ? this.carry + s : s;
    const cut = text.lastIndexOf('>');
    if (cut < 0 && text.length < MAX_CARRY) {
      this.carry = text;
      return;
    }
    const upTo = cut < 0 ? text.length : cut + 1;
    this.carry = text.slice(upTo);
    this.write(upTo === text.length ? text : text.slice(0, upTo));
  }

  /** Writes what is left and closes the document; throws InputError when it is incomplete. */
  end(): void {
    this.ending = true;
    const rest = this.carry + this.decoder.end();
    this.carry = '';
    if (rest.length) this.write(rest);
    this.parser.close();
  }

  private write(s: string): void {
    this.bytesBefore += this.curBytes;
    // (saxes' own position is only meaningful during a write.)
    this.charsBefore += this.cur.length;
    this.curStart = this.charsBefore;
    this.cur = s;
    this.curBytes = Buffer.byteLength(s);
    this.curAscii = this.curBytes === s.length;
    this.cacheChar = 0;
    this.cacheByte = 0;
    this.parser.write(s);
  }

  /** Byte offset in the input of a parser position inside the current write. */
  byteAt(position: number): number {
    const idx = position - this.curStart;
    if (idx <= 0) return this.bytesBefore;
    if (this.curAscii) return this.bytesBefore + Math.min(idx, this.cur.length);
    if (idx < this.cacheChar) {
      this.cacheChar = 0;
      this.cacheByte = 0;
    }
    this.cacheByte += Buffer.byteLength(this.cur.slice(this.cacheChar, idx));
    this.cacheChar = idx;
    return this.bytesBefore + this.cacheByte;
  }

  /** Index in the current write string of the `<` that opened the tag just parsed. */
  private tagStartIndex(): number {
    const end = this.parser.position - this.curStart;
    const i = this.cur.lastIndexOf('<', end - 1);
    return i < 0 ? 0 : i;
  }

  /** Byte offset of the tag just parsed (call from the open handler). */
  tagOffset(): number {
    return this.byteAt(this.curStart + this.tagStartIndex());
  }

  /** Text of the start tag just parsed, at most `max` characters (call from the open handler). */
  tagText(max = 4096): string {
    const end = this.parser.position - this.curStart;
    const start = this.tagStartIndex();
    return this.cur.slice(start, Math.min(end, start + max));
  }

  /** tagText, kept for later (already a slice of a string: nothing to save by waiting). */
  tagLater(max = 4096): () => string {
    const t = this.tagText(max);
    return () => t;
  }
}
