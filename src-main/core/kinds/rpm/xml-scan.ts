/**
 * A minimal streaming scanner for createrepo_c's metadata XML (primary, filelists, other).
 * Why not saxes: a 20k-package primary plus its filelists is a few hundred MB of XML and the
 * resolution budget is 2 s; a general SAX parser builds an attribute object and decodes every
 * text node, while the readers need a handful of fields. This works on Buffers with indexOf
 * (memchr) and decodes only what a reader asks for, each as a fresh string (no V8 sliced
 * string can pin a whole chunk in memory).
 *
 * What it accepts is the subset createrepo_c and libxml2 write: elements, attributes in double
 * or single quotes with '<' '>' '&' escaped, the five named entities and numeric references,
 * a prolog, comments. CDATA sections and DTDs are refused with an error rather than misread.
 */

export interface XmlSink {
  /** `name` without its namespace prefix ('rpm:entry' → 'entry'); `attrs` is raw and undecoded. */
  open(name: string, attrs: string, selfClosing: boolean): void;
  close(name: string): void;
  /** Only called while `wantText` is true: the text from the last tag to the next one, decoded. */
  text(t: string): void;
  wantText: boolean;
}

const LT = 60;
const GT = 62;
const SLASH = 47;
const BANG = 33;
const QMARK = 63;

const NAMED: Record<string, string> = { amp: '&', lt: '<', gt: '>', quot: '"', apos: "'" };

/** Replaces XML entity and character references (only called when the text has an '&'). */
export function decodeEntities(s: string): string {
  if (s.indexOf('&') < 0) return s;
  return s.replace(/&(#x[0-9a-fA-F]+|#[0-9]+|[a-z]+);/g, (m, ref: string) => {
    if (ref.charCodeAt(0) === 35) {
      const code = ref[1] === 'x' ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10);
      return Number.isFinite(code) ? String.fromCodePoint(code) : m;
    }
    return NAMED[ref] ?? m;
  });
}

/** Every attribute of a raw attribute string, values decoded. */
export function parseAttrs(raw: string): Record<string, string> {
  const out: Record<string, string> = {};
  const re = /([^\s=]+)\s*=\s*(?:"([^"]*)"|'([^']*)')/g;
  let m: RegExpExecArray | null;
  while ((m = re.exec(raw)) !== null) out[m[1]] = decodeEntities(m[2] ?? m[3] ?? '');
  return out;
}

export class XmlScanError extends Error {}

export class XmlScanner {
  private rest: Buffer | undefined;
  private consumed = 0;

  constructor(private readonly sink: XmlSink) {}

  /** Bytes scanned so far (for error messages). */
  get offset(): number {
    return this.consumed;
  }

  push(chunk: Buffer): void {
    const buf = this.rest ? Buffer.concat([this.rest, chunk]) : chunk;
    const n = buf.length;
    const sink = this.sink;
    let pos = 0;
    while (pos < n) {
      const lt = buf.indexOf(LT, pos);
      if (lt < 0) break;
      const first = lt + 1 < n ? buf[lt + 1] : -1;
      if (first === -1) break;
      if (first === BANG) {
        // Comments may hold '>' so they end at '-->'; CDATA and DOCTYPE are not written by
        // createrepo_c and would change how the text must be read.
        if (buf.toString('latin1', lt, Math.min(n, lt + 9)).startsWith('<![CDATA[')) {
          throw new XmlScanError(`CDATA section at byte ${this.consumed + lt} is not supported`);
        }
        if (n - lt < 4) break;
        if (buf[lt + 2] === 45 && buf[lt + 3] === 45) {
          const end = buf.indexOf('-->', lt + 4, 'latin1');
          if (end < 0) break;
          if (sink.wantText && lt > pos) sink.text(decodeEntities(buf.toString('utf8', pos, lt)));
          pos = end + 3;
          continue;
        }
        throw new XmlScanError(`DOCTYPE or declaration at byte ${this.consumed + lt} is not supported`);
      }
      const gt = buf.indexOf(GT, lt + 1);
      if (gt < 0) break;
      if (sink.wantText && lt > pos) sink.text(decodeEntities(buf.toString('utf8', pos, lt)));
      if (first === QMARK) {
        pos = gt + 1;
        continue;
      }
      if (first === SLASH) {
        let s = lt + 2;
        for (let k = s; k < gt; k++) if (buf[k] === 58) s = k + 1; // strip 'rpm:'
        let e = gt;
        while (e > s && buf[e - 1] <= 32) e--;
        sink.close(buf.toString('latin1', s, e));
      } else {
        let ne = lt + 1;
        let s = lt + 1;
        while (ne < gt) {
          const c = buf[ne];
          if (c <= 32 || c === SLASH) break;
          if (c === 58) s = ne + 1;
          ne++;
        }
        const self = buf[gt - 1] === SLASH;
        const name = buf.toString('latin1', s, ne);
        const attrs = ne < gt ? buf.toString('utf8', ne, self ? gt - 1 : gt) : '';
        sink.open(name, attrs, self);
        if (self) sink.close(name);
      }
      pos = gt + 1;
    }
    this.consumed += pos;
    // What is left is an incomplete tag or text whose end is in the next chunk: keep a copy,
    // so the chunk itself can be collected.
    this.rest = pos < n ? Buffer.from(buf.subarray(pos)) : undefined;
  }

  /** Throws when the document ended inside a tag. Trailing whitespace is fine. */
  end(): void {
    if (this.rest && this.rest.toString('latin1').trim() !== '') {
      throw new XmlScanError(`the document ends inside a tag or text at byte ${this.consumed}`);
    }
  }
}
