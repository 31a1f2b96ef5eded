/**
 * A streaming SAX-style tokenizer for export.xml: start tags with their attributes and end tags,
 * nothing else (text, comments, processing instructions and the DOCTYPE with its internal subset
 * are skipped). No DOM, constant memory. It looks only for what export.xml contains (multi-GB
 * files of one-line elements): it finds tags with indexOf and slices attribute values out of each
 * decoded chunk. Measured by `npm run bench:parsers` (105 MB export.xml, 2026-12-01, CPU time):
 * bare saxes takes 1.13x its time, saxes with the positions and byte offsets the reader needs
 * (xml-feed.ts) 1.64x; the Apple reader runs 1.41x faster on it than on saxes, which made a whole
 * import of export.xml 9-14 % faster when issue 13 measured it.
 *
 * It checks what matters to an import: tags nest and close by name, attributes are `name="value"`
 * (or single-quoted) separated by whitespace, no `<` in a value, entities are the XML ones or
 * character references, one root element, and the document is complete at the end (else the
 * "ends early" error). It does not check every character against the XML character classes; the
 * workout route files (GPX, small, text content) go through saxes instead (xml-feed.ts).
 *
 * Same handler and error interface as XmlFeed: errors are InputError with the byte offset.
 */
import { InputError } from '../errors.js';

export interface FastTag {
  name: string;
  attributes: Record<string, string>;
  isSelfClosing: boolean;
}

export interface FastHandlers {
  open(tag: FastTag): void;
  close(): void;
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

/** Length of the longest prefix of `b` that ends on a UTF-8 character boundary. */
export function completeUtf8(b: Buffer): number {
  const n = b.length;
  // Walk back over at most 3 continuation bytes (10xxxxxx) to the lead byte of the last character.
  let i = n - 1;
  const stop = Math.max(0, n - 4);
  while (i >= stop && (b[i] & 0xc0) === 0x80) i--;
  if (i < 0 || i < stop) return n; // no lead byte nearby: not UTF-8 we can fix; leave it to the decoder
  const lead = b[i];
  const need = lead >= 0xf0 ? 4 : lead >= 0xe0 ? 3 : lead >= 0xc0 ? 2 : 1;
  return i + need > n ? i : n;
}

/** Not yet complete: more input is needed. */
const MORE = -1;

export class FastXml {
  /** Trailing bytes of an incomplete UTF-8 character, decoded with the next chunk. */
  private partial: Buffer | null = null;
  /** Bytes decoded into strings so far (the input minus `partial`). */
  private decoded = 0;
  private s = '';
  /** Byte offset in the input of s[0]. */
  private sByte = 0;
  /**
   * The last index byteAt measured in the current `s`, and its byte offset: tags are asked for in
   * order, so each call measures only the characters since the previous one. Measuring from s[0]
   * every time made the reader quadratic in the chunk: 2,000 records/s instead of 50,000+.
   */
  private atIndex = 0;
  private atByte = 0;
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

  constructor(private readonly h: FastHandlers) {}

  /** The name s[a..b) as an interned string. */
  private name(a: number, b: number): string {
    const s = this.s;
    const key = ((b - a) << 16) | ((s.charCodeAt(a) & 0xff) << 8) | (s.charCodeAt(b - 1) & 0xff);
    const known = this.names.get(key);
    if (known !== undefined && known.length === b - a && s.startsWith(known, a)) return known;
    const fresh = s.slice(a, b);
    const o: Record<string, number> = {};
    o[fresh] = 1;
    const interned = Object.keys(o)[0];
    if (this.names.size < 4096) this.names.set(key, interned);
    return interned;
  }

  push(buf: Buffer): void {
    this.bytesIn += buf.length;
    const b = this.partial ? Buffer.concat([this.partial, buf]) : buf;
    const k = completeUtf8(b);
    this.partial = k < b.length ? Buffer.from(b.subarray(k)) : null;
    this.append(b.toString('utf8', 0, k), k);
    this.scan(false);
  }

  end(): void {
    if (this.partial) {
      // An incomplete character at the very end: decoded as U+FFFD, like any decoder does.
      this.append(this.partial.toString('utf8'), this.partial.length);
      this.partial = null;
    }
    this.scan(true);
    if (!this.sawRoot) throw this.early('no root element');
    if (this.stack.length) throw this.early(`unclosed tag: ${this.stack[this.stack.length - 1]}`);
  }

  private append(d: string, bytes: number): void {
    this.decoded += bytes;
    if (this.first && d.length > 0) {
      this.first = false;
      if (d.charCodeAt(0) === 0xfeff) {
        d = d.slice(1);
        this.sByte += 3;
      }
    }
    this.s = this.s.length ? this.s + d : d;
  }

  private early(why: string): InputError {
    return new InputError(`the XML ends early at byte ${this.bytesIn} (truncated file?): ${why}`, { offset: this.bytesIn });
  }

  /** Byte offset in the input of index `i` of the current string. */
  private byteAt(i: number): number {
    if (i < this.atIndex) {
      this.atIndex = 0;
      this.atByte = 0;
    }
    this.atByte += Buffer.byteLength(this.s.slice(this.atIndex, i));
    this.atIndex = i;
    return this.sByte + this.atByte;
  }

  private fail(i: number, why: string): never {
    const off = this.byteAt(i);
    let line = this.linesBefore + 1;
    let nl = -1;
    for (let k = this.s.indexOf('\n'); k >= 0 && k < i; k = this.s.indexOf('\n', k + 1)) {
      line++;
      nl = k;
    }
    throw new InputError(`not well-formed XML at byte ${off} (line ${line}, column ${i - nl}): ${why}`, { offset: off });
  }

  tagOffset(): number {
    return this.byteAt(this.tagStart);
  }

  tagText(max = 4096): string {
    return this.s.slice(this.tagStart, Math.min(this.tagEnd, this.tagStart + max));
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
        i = n;
        break;
      }
      if (this.stack.length === 0 && lt > i) this.checkOutside(i, lt);
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
    // Keep the unprocessed tail; account for the bytes and lines consumed.
    if (i > 0) {
      for (let k = s.indexOf('\n'); k >= 0 && k < i; k = s.indexOf('\n', k + 1)) this.linesBefore++;
      this.s = i === n ? '' : s.slice(i);
      // Offset of the new s[0]: everything decoded so far, minus the (short) tail kept.
      this.sByte = this.decoded - Buffer.byteLength(this.s);
      this.atIndex = 0;
      this.atByte = 0;
    }
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
      const name = s.slice(lt + 2, e);
      const open = this.stack.pop();
      if (open === undefined) this.fail(lt, `unexpected close tag </${name}>`);
      if (open !== name) this.fail(lt, `unexpected close tag </${name}>, expected </${open}>`);
      this.tagStart = lt;
      this.tagEnd = gt + 1;
      this.h.close();
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
      return e < 0 ? MORE : e + 3;
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
      while (p < n) {
        c = s.charCodeAt(p);
        if (c === EQ || isSpace(c) || c === GT || c === SLASH || c === LT) break;
        p++;
      }
      if (p >= n) return MORE;
      const aname = this.name(a0, p);
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
      let value = s.slice(p + 1, v1);
      if (value.indexOf('&') >= 0) value = this.entities(value, p + 1);
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
      this.h.close();
      if (this.stack.length === 0) this.rootClosed = true;
    }
    return p;
  }

  private entities(v: string, at: number): string {
    let out = '';
    let i = 0;
    for (let a = v.indexOf('&'); a >= 0; a = v.indexOf('&', i)) {
      const semi = v.indexOf(';', a + 1);
      if (semi < 0) this.fail(at + a, 'unterminated entity');
      const ent = v.slice(a + 1, semi);
      let rep = namedEntity(ent);
      if (rep === undefined && ent.charCodeAt(0) === 35 /* # */) {
        const hex = ent.charCodeAt(1) === 120 /* x */;
        const digits = ent.slice(hex ? 2 : 1);
        const cp = digits.length > 0 && (hex ? /^[0-9a-fA-F]+$/ : /^[0-9]+$/).test(digits) ? parseInt(digits, hex ? 16 : 10) : NaN;
        if (cp >= 1 && cp <= 0x10ffff && !(cp >= 0xd800 && cp <= 0xdfff)) rep = String.fromCodePoint(cp);
      }
      if (rep === undefined) this.fail(at + a, `undefined entity &${ent};`);
      out += v.slice(i, a) + rep;
      i = semi + 1;
    }
    return out + v.slice(i);
  }
}
