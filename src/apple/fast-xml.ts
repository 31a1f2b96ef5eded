/**
 * A streaming SAX-style tokenizer for export.xml and the workout route files (GPX): start tags
 * with their attributes, end tags, and text content when asked for (comments, processing
 * instructions and the DOCTYPE with its internal subset are skipped). No DOM, constant memory.
 * It looks only for what export.xml contains (multi-GB files of one-line elements): it reads
 * each piece of input as Latin-1 (one character per byte), finds tags with indexOf, and decodes
 * as UTF-8 only the names and values that hold non-ASCII bytes. Measured by `npm run
 * bench:parsers` (210 MB export.xml, 2026-12-01 16:25, CPU time): bare saxes takes 2.82x its
 * time, saxes with the positions and byte offsets the reader needs (xml-feed.ts) 4.74x; the Apple
 * reader runs 3.81x faster on it than on saxes.
 *
 * It checks what matters to an import: tags nest and close by name, attributes are `name="value"`
 * (or single-quoted) separated by whitespace, no `<` in a value, entities are the XML ones or
 * character references, one root element, and the document is complete at the end (else the
 * "ends early" error). It does not check every character against the XML character classes
 * (saxes does; the tests read the same files through both, xml-feed.ts, and compare).
 *
 * Errors are InputError with the byte offset, as XmlFeed's are; its handlers get the same start
 * tags (the close handler gets the name, not the tag).
 */
import { InputError } from '../errors.js';

export interface FastTag {
  name: string;
  attributes: Record<string, string>;
  isSelfClosing: boolean;
}

export interface FastHandlers {
  open(tag: FastTag): void;
  close(name: string): void;
  /** Text content (entities replaced, CDATA as is), possibly in several pieces; only when given. */
  text?(t: string): void;
  /**
   * Attributes of a `name` element at `depth` (the root's is 0) whose values the handler never
   * reads: they are checked but not decoded, and left out of `attributes`.
   */
  unread?(name: string, depth: number): ReadonlySet<string> | null;
}

/** A token longer than this (no end in sight) is an error, not a reason to buffer forever. */
const MAX_TOKEN = 64 << 20;

const LT = 60; // <
const GT = 62; // >
const SLASH = 47;
const EQ = 61;
const QUOT = 34;
const APOS = 39;
const BANG = 33;
const QMARK = 63;

function isSpace(c: number): boolean {
  return c === 32 || c === 10 || c === 9 || c === 13;
}

/** First character of a name: letter, `_`, `:` or any non-ASCII (not checked further). */
function isNameStart(c: number): boolean {
  return (c >= 97 && c <= 122) || (c >= 65 && c <= 90) || c === 95 || c === 58 || c >= 0x80;
}

function namedEntity(e: string): string | undefined {
  switch (e) {
    case 'lt':
      return '<';
    case 'gt':
      return '>';
    case 'amp':
      return '&';
    case 'quot':
      return '"';
    case 'apos':
      return "'";
  }
  return undefined;
}

/** A character that is not ASCII: part of a multi-byte UTF-8 sequence, in the Latin-1 view. */
const HIGH = /[\x80-\xff]/g;
/** Non-ASCII values remembered with their decoding (FastXml.utf8). */
const DECODED_KEPT = 4;
/** A position past any string (nextHigh when none is left). */
const NONE = 0x7fffffff;
const BOM = Buffer.from([0xef, 0xbb, 0xbf]);
const EMPTY = Buffer.alloc(0);

/** Not yet complete: more input is needed. */
const MORE = -1;

/**
 * Most new input decoded at once. V8 allocates a string longer than 128 KiB in its large-object
 * space, one mmap and munmap each: Latin-1 strings of 128 KiB cost 1.1-1.2 CPU-s per 200 MB
 * (half of it in the kernel), 64 KiB ones 0.014 s (node 20, 2026-12-01). A piece plus the
 * incomplete tag carried over from the last one stays under that size.
 */
const MAX_PIECE = 64 * 1024;

export class FastXml {
  /**
   * The bytes not yet handled (the incomplete tail of the previous pieces, then the new piece),
   * and the same bytes as a Latin-1 string: one character per byte, so markup (all ASCII, which
   * UTF-8 never uses inside a multi-byte character) is found with string methods, an index is a
   * byte offset, and only the attribute values holding non-ASCII bytes are decoded as UTF-8.
   * Decoding all the input as UTF-8 took 3.8 of the reader's 12.5 CPU-s on the 314 MB bench
   * export, whose source names (like real ones) are not ASCII.
   */
  private bytes: Buffer = EMPTY;
  private s = '';
  /** Byte offset in the input of s[0]. */
  private sByte = 0;
  /** The first non-ASCII index in `s` at or after `hiFrom` (NONE: none); -1 when not looked for. */
  private hi = -1;
  private hiFrom = 0;
  /** The same for `&` (nextAmp). */
  private amp = -1;
  private ampFrom = 0;
  private first = true;
  private readonly stack: string[] = [];
  private sawRoot = false;
  private rootClosed = false;
  /** Where the tag being handled starts in `s` (for tagOffset/tagText). */
  private tagStart = 0;
  private tagEnd = 0;
  /** Newlines before s[0] (for the line number of an error). */
  private linesBefore = 0;
  bytesIn = 0;
  /** Duplicated attributes (the later value is kept). */
  tolerated = 0;
  /**
   * Tag and attribute names seen, as internalized strings: the same dozen names repeat millions
   * of times, and a fresh slice used as a property key would be hashed and looked up each time.
   */
  private readonly names = new Map<number, string>();
  /**
   * Per element name, the attribute names of the last such element in order: export.xml writes
   * every Record's attributes in the same order, so each name is confirmed with one comparison
   * instead of being scanned character by character and looked up.
   */
  private readonly layouts = new Map<string, string[]>();
  /**
   * The last non-ASCII values decoded, as [Latin-1 view, UTF-8 text] pairs: a Record's sourceName
   * and device repeat from one Record to the next, and a comparison with the Latin-1 view costs
   * less than decoding the bytes again.
   */
  private readonly decoded: [string, string][] = [];
  private decodedNext = 0;

  constructor(private readonly h: FastHandlers) {}

  /** The name s[a..b) as an interned string. */
  private name(a: number, b: number): string {
    const s = this.s;
    const key = ((b - a) << 16) | ((s.charCodeAt(a) & 0xff) << 8) | (s.charCodeAt(b - 1) & 0xff);
    const known = this.names.get(key);
    if (known !== undefined && known.length === b - a && s.startsWith(known, a)) return known;
    if (this.nextHigh(a) < b) return this.bytes.toString('utf8', a, b); // not ASCII: rare, not kept
    const fresh = s.slice(a, b);
    const o: Record<string, number> = {};
    o[fresh] = 1;
    const interned = Object.keys(o)[0];
    if (this.names.size < 4096) this.names.set(key, interned);
    return interned;
  }

  /** Index of the first non-ASCII character of `s` at or after `from` (NONE: none). */
  private nextHigh(from: number): number {
    if (this.hi < from || from < this.hiFrom) {
      HIGH.lastIndex = from;
      this.hi = HIGH.test(this.s) ? HIGH.lastIndex - 1 : NONE;
      this.hiFrom = from;
    }
    return this.hi;
  }

  /**
   * Index of the first `&` of `s` at or after `from` (NONE: none), remembered like nextHigh: a
   * plain indexOf from each value would scan to the end of the piece whenever no entity follows.
   */
  private nextAmp(from: number): number {
    if (this.amp < from || from < this.ampFrom) {
      const a = this.s.indexOf('&', from);
      this.amp = a < 0 ? NONE : a;
      this.ampFrom = from;
    }
    return this.amp;
  }

  /** The text s[a..b) decoded: a slice when it is ASCII, else its bytes as UTF-8. */
  private text(a: number, b: number): string {
    return this.nextHigh(a) < b ? this.utf8(a, b) : this.s.slice(a, b);
  }

  private utf8(a: number, b: number): string {
    const s = this.s;
    for (const d of this.decoded) if (d[0].length === b - a && s.startsWith(d[0], a)) return d[1];
    const text = this.bytes.toString('utf8', a, b);
    this.decoded[this.decodedNext] = [s.slice(a, b), text];
    this.decodedNext = (this.decodedNext + 1) % DECODED_KEPT;
    return text;
  }

  push(buf: Buffer): void {
    if (buf.length <= MAX_PIECE) return this.pushPiece(buf);
    for (let at = 0; at < buf.length; at += MAX_PIECE) this.pushPiece(buf.subarray(at, at + MAX_PIECE));
  }

  private pushPiece(buf: Buffer): void {
    this.bytesIn += buf.length;
    let b = this.bytes.length ? Buffer.concat([this.bytes, buf]) : buf;
    if (this.first) {
      // A byte-order mark, possibly cut across pieces.
      if (b.length < 3 && BOM.subarray(0, b.length).equals(b)) {
        this.bytes = Buffer.from(b);
        return;
      }
      this.first = false;
      if (b[0] === 0xef && b[1] === 0xbb && b[2] === 0xbf) {
        b = b.subarray(3);
        this.sByte = 3;
      }
    }
    this.load(b);
    this.scan(false);
  }

  end(): void {
    this.load(this.bytes);
    this.scan(true);
    if (!this.sawRoot) throw this.early('no root element');
    if (this.stack.length) throw this.early(`unclosed tag: ${this.stack[this.stack.length - 1]}`);
  }

  private load(b: Buffer): void {
    this.bytes = b;
    this.s = b.toString('latin1');
    this.hi = -1;
    this.amp = -1;
  }

  private early(why: string): InputError {
    return new InputError(`the XML ends early at byte ${this.bytesIn} (truncated file?): ${why}`, { offset: this.bytesIn });
  }

  private fail(i: number, why: string): never {
    const off = this.sByte + i;
    let line = this.linesBefore + 1;
    let nl = -1;
    for (let k = this.s.indexOf('\n'); k >= 0 && k < i; k = this.s.indexOf('\n', k + 1)) {
      line++;
      nl = k;
    }
    const column = this.bytes.toString('utf8', nl + 1, i).length + 1;
    throw new InputError(`not well-formed XML at byte ${off} (line ${line}, column ${column}): ${why}`, { offset: off });
  }

  tagOffset(): number {
    return this.sByte + this.tagStart;
  }

  /** The tag just handled, at most `max` characters (a UTF-8 character takes at most 4 bytes). */
  tagText(max = 4096): string {
    return this.tagLater(max)();
  }

  /**
   * tagText for later, when the tag can only be rejected once its children or text are read (a
   * Record's metadata, a GPX point's time): its Latin-1 view is kept, a slice of the piece, and
   * decoded only if asked. A quarter of the bench export's Records have children; decoding each
   * one's tag as it opened cost 0.4 CPU-s.
   */
  tagLater(max = 4096): () => string {
    const latin1 = this.s.slice(this.tagStart, Math.min(this.tagEnd, this.tagStart + 4 * max));
    return () => {
      const t = Buffer.from(latin1, 'latin1').toString('utf8');
      return t.length > max ? t.slice(0, max) : t;
    };
  }

  /** Handles every complete token of `s`; keeps the incomplete rest for the next chunk. */
  private scan(final: boolean): void {
    const s = this.s;
    const n = s.length;
    let i = 0;
    while (i < n) {
      const lt = s.indexOf('<', i);
      if (lt < 0) {
        if (this.stack.length === 0) this.checkOutside(i, n);
        else if (this.h.text) {
          // An entity cut by the end of the piece is completed by the next one.
          const amp = s.lastIndexOf('&', n - 1);
          const cut = !final && amp >= i && n - amp <= 32 && s.indexOf(';', amp) < 0 ? amp : n;
          if (cut > i) this.emitText(i, cut);
          i = cut;
          break;
        }
        i = n;
        break;
      }
      if (lt > i) {
        if (this.stack.length === 0) this.checkOutside(i, lt);
        else if (this.h.text) this.emitText(i, lt);
      }
      const end = this.token(lt, n);
      if (end === MORE) {
        if (final) {
          if (this.stack.length === 0 && !this.sawRoot) throw this.early('incomplete markup before the root element');
          throw this.early(this.stack.length ? `unclosed tag: ${this.stack[this.stack.length - 1]}` : 'incomplete markup');
        }
        if (n - lt > MAX_TOKEN) this.fail(lt, `markup longer than ${MAX_TOKEN} characters`);
        i = lt;
        break;
      }
      i = end;
    }
    // Keep the unprocessed tail (a copy: the input may reuse its buffers); count what was consumed.
    for (let k = s.indexOf('\n'); k >= 0 && k < i; k = s.indexOf('\n', k + 1)) this.linesBefore++;
    this.sByte += i;
    this.bytes = i === n ? EMPTY : Buffer.from(this.bytes.subarray(i));
  }

  /** Text content s[from..to), its entities replaced, to the text handler. */
  private emitText(from: number, to: number): void {
    const amp = this.nextAmp(from);
    this.h.text!(amp < to ? this.entities(from, amp, to) : this.text(from, to));
  }

  /** Text outside the root element must be whitespace. */
  private checkOutside(from: number, to: number): void {
    for (let k = from; k < to; k++) {
      if (!isSpace(this.s.charCodeAt(k))) {
        this.fail(k, this.rootClosed ? 'text after the root element' : 'text before the root element');
      }
    }
  }

  /** Handles the token at `lt`; returns the index after it, or MORE. */
  private token(lt: number, n: number): number {
    const s = this.s;
    if (lt + 1 >= n) return MORE;
    const c = s.charCodeAt(lt + 1);
    if (c === SLASH) {
      const gt = s.indexOf('>', lt + 2);
      if (gt < 0) return MORE;
      let e = gt;
      while (e > lt + 2 && isSpace(s.charCodeAt(e - 1))) e--;
      const name = this.text(lt + 2, e);
      const open = this.stack.pop();
      if (open === undefined) this.fail(lt, `unexpected close tag </${name}>`);
      if (open !== name) this.fail(lt, `unexpected close tag </${name}>, expected </${open}>`);
      this.tagStart = lt;
      this.tagEnd = gt + 1;
      this.h.close(name);
      if (this.stack.length === 0) this.rootClosed = true;
      return gt + 1;
    }
    if (c === QMARK) {
      const e = s.indexOf('?>', lt + 2);
      return e < 0 ? MORE : e + 2;
    }
    if (c === BANG) return this.bang(lt, n);
    return this.startTag(lt, n);
  }

  /** `<!-- -->`, `<![CDATA[ ]]>`, `<!DOCTYPE ... [ ... ]>`. */
  private bang(lt: number, n: number): number {
    const s = this.s;
    if (n - lt < 9) return MORE;
    if (s.startsWith('<!--', lt)) {
      const e = s.indexOf('-->', lt + 4);
      return e < 0 ? MORE : e + 3;
    }
    if (s.startsWith('<![CDATA[', lt)) {
      if (this.stack.length === 0) this.fail(lt, 'CDATA outside the root element');
      const e = s.indexOf(']]>', lt + 9);
      if (e < 0) return MORE;
      if (this.h.text) this.h.text(this.text(lt + 9, e));
      return e + 3;
    }
    if (s.startsWith('<!DOCTYPE', lt)) {
      if (this.sawRoot) this.fail(lt, 'DOCTYPE after the root element');
      // Up to the `>` that is outside quotes, comments and the [internal subset].
      let depth = 0;
      for (let k = lt + 9; k < n; k++) {
        const ch = s.charCodeAt(k);
        if (ch === QUOT || ch === APOS) {
          const q = s.indexOf(ch === QUOT ? '"' : "'", k + 1);
          if (q < 0) return MORE;
          k = q;
        } else if (ch === LT && s.startsWith('<!--', k)) {
          const e = s.indexOf('-->', k + 4);
          if (e < 0) return MORE;
          k = e + 2;
        } else if (ch === 91 /* [ */) depth++;
        else if (ch === 93 /* ] */) depth--;
        else if (ch === GT && depth <= 0) return k + 1;
      }
      return MORE;
    }
    return this.fail(lt, 'unknown markup declaration');
  }

  private startTag(lt: number, n: number): number {
    const s = this.s;
    let p = lt + 1;
    if (!isNameStart(s.charCodeAt(p))) this.fail(p, 'disallowed character in tag name');
    let c = 0;
    while (p < n) {
      c = s.charCodeAt(p);
      if (isSpace(c) || c === GT || c === SLASH) break;
      if (c === LT || c === EQ || c === QUOT || c === APOS) this.fail(p, 'disallowed character in tag name');
      p++;
    }
    if (p >= n) return MORE;
    const name = this.name(lt + 1, p);
    if (this.rootClosed) this.fail(lt, 'a second root element');
    const attributes: Record<string, string> = {};
    const unread = this.h.unread?.(name, this.stack.length) ?? null;
    let layout = this.layouts.get(name);
    if (layout === undefined) {
      layout = [];
      if (this.layouts.size < 256) this.layouts.set(name, layout);
    }
    let k = 0;
    let selfClosing = false;
    // No `<` may appear before the end of the tag (in a value, it is an error).
    let nextLt = s.indexOf('<', p);
    if (nextLt < 0) nextLt = n;
    for (;;) {
      const sep = p;
      while (p < n && isSpace(s.charCodeAt(p))) p++;
      if (p >= n) return MORE;
      c = s.charCodeAt(p);
      if (c === GT) {
        p++;
        break;
      }
      if (c === SLASH) {
        if (p + 1 >= n) return MORE;
        if (s.charCodeAt(p + 1) !== GT) this.fail(p + 1, 'expected > after / in a tag');
        selfClosing = true;
        p += 2;
        break;
      }
      if (p === sep) this.fail(p, 'attributes must be separated by whitespace');
      if (!isNameStart(c)) this.fail(p, 'disallowed character in attribute name');
      const a0 = p;
      const guess = layout[k];
      let aname: string;
      if (guess !== undefined && s.charCodeAt(p + guess.length) === EQ && s.startsWith(guess, p)) {
        aname = guess;
        p += guess.length;
      } else {
        while (p < n) {
          c = s.charCodeAt(p);
          if (c === EQ || isSpace(c) || c === GT || c === SLASH || c === LT) break;
          p++;
        }
        if (p >= n) return MORE;
        aname = this.name(a0, p);
        if (this.nextHigh(a0) >= p) layout[k] = aname; // ASCII only: compared with the Latin-1 text
      }
      k++;
      while (p < n && isSpace(s.charCodeAt(p))) p++;
      if (p >= n) return MORE;
      if (s.charCodeAt(p) !== EQ) this.fail(p, `attribute ${aname} without a value`);
      p++;
      while (p < n && isSpace(s.charCodeAt(p))) p++;
      if (p >= n) return MORE;
      const q = s.charCodeAt(p);
      if (q !== QUOT && q !== APOS) this.fail(p, `unquoted value of attribute ${aname}`);
      const v1 = s.indexOf(q === QUOT ? '"' : "'", p + 1);
      if (v1 < 0) return MORE;
      if (nextLt < v1) this.fail(nextLt, `< in the value of attribute ${aname}`);
      if (unread !== null && unread.has(aname)) {
        p = v1 + 1;
        continue;
      }
      const amp = this.nextAmp(p + 1);
      const value = amp < v1 ? this.entities(p + 1, amp, v1) : this.text(p + 1, v1);
      if (aname === '__proto__') {
        Object.defineProperty(attributes, aname, { value, enumerable: true, writable: true, configurable: true });
      } else {
        if (attributes[aname] !== undefined) this.tolerated++;
        attributes[aname] = value;
      }
      p = v1 + 1;
    }
    this.sawRoot = true;
    this.tagStart = lt;
    this.tagEnd = p;
    this.stack.push(name);
    this.h.open({ name, attributes, isSelfClosing: selfClosing });
    if (selfClosing) {
      this.stack.pop();
      this.h.close(name);
      if (this.stack.length === 0) this.rootClosed = true;
    }
    return p;
  }

  /** The value s[from..to), whose first `&` is at `amp`, with its entities replaced. */
  private entities(from: number, amp: number, to: number): string {
    const s = this.s;
    let out = '';
    let i = from;
    for (let a = amp; a >= 0 && a < to; a = s.indexOf('&', i)) {
      const semi = s.indexOf(';', a + 1);
      if (semi < 0 || semi >= to) this.fail(a, 'unterminated entity');
      const ent = s.slice(a + 1, semi);
      let rep = namedEntity(ent);
      if (rep === undefined && ent.charCodeAt(0) === 35 /* # */) {
        const hex = ent.charCodeAt(1) === 120 /* x */;
        const digits = ent.slice(hex ? 2 : 1);
        const cp = digits.length > 0 && (hex ? /^[0-9a-fA-F]+$/ : /^[0-9]+$/).test(digits) ? parseInt(digits, hex ? 16 : 10) : NaN;
        if (cp >= 1 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff)) rep = String.fromCodePoint(cp);
      }
      if (rep === undefined) this.fail(a, `undefined entity &${this.text(a + 1, semi)};`);
      out += this.text(i, a) + rep;
      i = semi + 1;
    }
    return out + this.text(i, to);
  }
}
