import { EvalError, UnsupportedError } from './values.js';

/**
 * Python `re.sub` on top of JavaScript RegExp. The pattern syntax differs in a few places that
 * matter to templates: named groups `(?P<n>…)` and `(?P=n)`, `\A`/`\Z`, and Python's `$` which also
 * matches before a final newline. The replacement is Python's template language (`\1`, `\g<n>`,
 * escapes), where `$` is literal — so it is expanded by hand rather than handed to String.replace.
 */
export function translatePattern(pattern: string, multiline = false): string {
  let out = '';
  let inClass = false;
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '\\') {
      const nx = pattern[i + 1];
      if (nx === undefined) throw new EvalError(`bad escape (end of pattern) in regex '${pattern}'`);
      if (!inClass && nx === 'A') out += '^';
      else if (!inClass && nx === 'Z') out += '$(?![\\s\\S])';
      else out += c + nx;
      i++;
      continue;
    }
    if (inClass) {
      if (c === ']') inClass = false;
      out += c;
      continue;
    }
    if (c === '[') {
      inClass = true;
      out += c;
      if (pattern[i + 1] === '^') out += pattern[++i];
      if (pattern[i + 1] === ']') out += '\\' + pattern[++i];
      continue;
    }
    if (c === '(' && pattern.startsWith('(?P<', i)) {
      out += '(?<';
      i += 3;
      continue;
    }
    if (c === '(' && pattern.startsWith('(?P=', i)) {
      const end = pattern.indexOf(')', i);
      out += `\\k<${pattern.slice(i + 4, end)}>`;
      i = end;
      continue;
    }
    if (c === '(' && /^\(\?[aiLmsux]+\)/.test(pattern.slice(i))) {
      throw new UnsupportedError(`inline regex flags in '${pattern}'`);
    }
    if (c === '$' && !multiline) {
      // Python's $ also matches right before a final newline; JavaScript's only at the very end.
      out += '(?=\\n?$)';
      continue;
    }
    out += c;
  }
  return out;
}

type Part = string | { group: number | string };

function parseReplacement(repl: string): Part[] {
  const parts: Part[] = [];
  let lit = '';
  for (let i = 0; i < repl.length; i++) {
    const c = repl[i];
    if (c !== '\\') {
      lit += c;
      continue;
    }
    const nx = repl[i + 1];
    if (nx === undefined) throw new EvalError(`bad escape (end of replacement '${repl}')`);
    const num = /^\d{1,2}/.exec(repl.slice(i + 1));
    if (num) {
      if (lit) parts.push(lit);
      lit = '';
      parts.push({ group: Number(num[0]) });
      i += num[0].length;
      continue;
    }
    if (nx === 'g') {
      const m = /^g<([^>]+)>/.exec(repl.slice(i + 1));
      if (!m) throw new EvalError(`bad group reference in replacement '${repl}'`);
      if (lit) parts.push(lit);
      lit = '';
      parts.push({ group: /^\d+$/.test(m[1]) ? Number(m[1]) : m[1] });
      i += m[0].length;
      continue;
    }
    const esc: Record<string, string> = {
      n: '\n',
      t: '\t',
      r: '\r',
      f: '\f',
      v: '\v',
      a: '\x07',
      b: '\b',
      '\\': '\\',
    };
    if (esc[nx] !== undefined) lit += esc[nx];
    else if (/[A-Za-z]/.test(nx)) throw new EvalError(`bad escape \\${nx} in replacement '${repl}'`);
    else lit += '\\' + nx;
    i++;
  }
  if (lit) parts.push(lit);
  return parts;
}

export function pySub(
  pattern: string,
  repl: string,
  value: string,
  opts: { ignorecase?: boolean; multiline?: boolean } = {},
): string {
  let re: RegExp;
  try {
    re = new RegExp(
      translatePattern(pattern),
      'g' + (opts.ignorecase ? 'i' : '') + (opts.multiline ? 'm' : ''),
    );
  } catch (err) {
    throw new EvalError(`invalid regular expression '${pattern}': ${(err as Error).message}`);
  }
  const parts = parseReplacement(repl);
  return value.replace(re, (...args: unknown[]) => {
    const hasGroups = typeof args[args.length - 1] === 'object';
    const named = (hasGroups ? args[args.length - 1] : {}) as Record<string, string | undefined>;
    const groups = args.slice(0, hasGroups ? -3 : -2) as (string | undefined)[];
    return parts
      .map((p) => {
        if (typeof p === 'string') return p;
        if (typeof p.group === 'number') {
          if (p.group >= groups.length)
            throw new EvalError(`invalid group reference ${p.group} in '${repl}'`);
          return groups[p.group] ?? '';
        }
        if (!(p.group in named)) throw new EvalError(`unknown group name '${p.group}' in '${repl}'`);
        return named[p.group] ?? '';
      })
      .join('');
  });
}
