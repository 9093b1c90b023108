/**
 * A small reader for React's static markup, so renderer tests can ask for an element by what
 * labels it (aria-label, aria-labelledby, its text) instead of matching text fragments that any
 * element could contain. renderToStaticMarkup emits well-formed HTML, which is all this handles.
 */
export interface Node {
  tag: string;
  attrs: Record<string, string>;
  children: (Node | string)[];
}

const VOID = new Set(['area', 'br', 'col', 'embed', 'hr', 'img', 'input', 'link', 'meta', 'source', 'wbr']);

function unescape(s: string): string {
  return s
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#x27;/g, "'")
    .replace(/&amp;/g, '&');
}

export function parseMarkup(html: string): Node {
  const root: Node = { tag: '#root', attrs: {}, children: [] };
  const stack = [root];
  const token =
    /<\/([a-zA-Z0-9-]+)>|<([a-zA-Z0-9-]+)((?:\s+[^\s=/>]+(?:="[^"]*")?)*)\s*(\/?)>|([^<]+)|<!--[\s\S]*?-->/g;
  for (const m of html.matchAll(token)) {
    const top = stack[stack.length - 1];
    if (m[1]) {
      if (top.tag !== m[1]) throw new Error(`markup: </${m[1]}> closes <${top.tag}>`);
      stack.pop();
    } else if (m[2]) {
      const attrs: Record<string, string> = {};
      for (const a of (m[3] ?? '').matchAll(/([^\s=/>]+)(?:="([^"]*)")?/g))
        attrs[a[1]] = unescape(a[2] ?? '');
      const node: Node = { tag: m[2], attrs, children: [] };
      top.children.push(node);
      if (!m[4] && !VOID.has(m[2])) stack.push(node);
    } else if (m[5]) {
      top.children.push(unescape(m[5]));
    }
  }
  if (stack.length !== 1) throw new Error(`markup: <${stack[stack.length - 1].tag}> is not closed`);
  return root;
}

export function all(node: Node, test: (n: Node) => boolean): Node[] {
  const out: Node[] = [];
  for (const c of node.children) {
    if (typeof c === 'string') continue;
    if (test(c)) out.push(c);
    out.push(...all(c, test));
  }
  return out;
}

export function text(node: Node): string {
  return node.children
    .map((c) => (typeof c === 'string' ? c : text(c)))
    .join('')
    .trim();
}

/** The accessible name of an element: aria-label, else the text of what aria-labelledby names. */
export function labelOf(root: Node, node: Node): string | null {
  if (node.attrs['aria-label'] !== undefined) return node.attrs['aria-label'];
  const ids = node.attrs['aria-labelledby'];
  if (!ids) return null;
  return ids
    .split(/\s+/)
    .map((id) => all(root, (n) => n.attrs.id === id).map(text)[0] ?? '')
    .join(' ');
}

/** The one element labelled `label`; throws when none or several are, so a test cannot pass by accident. */
export function byLabel(html: string, label: string): Node {
  const root = parseMarkup(html);
  const found = all(root, (n) => labelOf(root, n) === label);
  if (found.length !== 1) throw new Error(`markup: ${found.length} elements labelled "${label}"`);
  return found[0];
}

/** The buttons whose text is `name`. */
export function buttons(html: string, name: string): Node[] {
  return all(parseMarkup(html), (n) => n.tag === 'button' && text(n) === name);
}
