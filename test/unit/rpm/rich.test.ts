import { describe, expect, it } from 'vitest';
import { depMatches } from '../../../src-main/core/kinds/rpm/evr.js';
import type { RpmDep } from '../../../src-main/core/kinds/rpm/package.js';
import {
  isRich,
  parseRich,
  richAtoms,
  richHolds,
  richNeeds,
  type RichWorld,
} from '../../../src-main/core/kinds/rpm/rich.js';

/** A world of packages that provide exactly their own name = version. */
function world(avail: Record<string, string>, chosen: string[]): RichWorld<string> {
  return {
    providers: (d: RpmDep) =>
      Object.entries(avail)
        .filter(([n, v]) => depMatches(d, { name: n, flags: 'EQ', epoch: 0, ver: v, rel: '1' }))
        .map(([n]) => n),
    chosen: (p) => chosen.includes(p),
  };
}

describe('rich dependency parsing', () => {
  it('parses versioned atoms, nesting and names with parentheses', () => {
    expect(parseRich('(foo >= 1.2 or bar)')).toEqual({
      op: 'or',
      args: [
        { op: 'atom', dep: { name: 'foo', flags: 'GE', epoch: 0, ver: '1.2' } },
        { op: 'atom', dep: { name: 'bar' } },
      ],
    });
    const e = parseRich('(perl(Foo::Bar) > 1:2.0-3 and (pkgconfig(x) or (a if b else c)))');
    expect(richAtoms(e).map((d) => d.name)).toEqual(['perl(Foo::Bar)', 'pkgconfig(x)', 'a', 'b', 'c']);
    expect(richAtoms(e)[0]).toEqual({ name: 'perl(Foo::Bar)', flags: 'GT', epoch: 1, ver: '2.0', rel: '3' });
    expect(parseRich('(a and b and c)')).toMatchObject({ op: 'and', args: [{}, {}, {}] });
    expect(parseRich('(a unless b else c)')).toMatchObject({ op: 'unless', cond: { dep: { name: 'b' } } });
    expect(parseRich('(a with b)')).toMatchObject({ op: 'with' });
    expect(parseRich('(a without b)')).toMatchObject({ op: 'without' });
    // As in rpm, the comparison needs whitespace before it: 'foo<=2' is one name.
    expect(parseRich('(foo <=2)')).toEqual({
      op: 'atom',
      dep: { name: 'foo', flags: 'LE', epoch: 0, ver: '2' },
    });
    expect(parseRich('(foo<=2)')).toEqual({ op: 'atom', dep: { name: 'foo<=2' } });
    expect(isRich('(a or b)')).toBe(true);
    expect(isRich('a')).toBe(false);
  });

  it.each([
    ['(a and b or c)', /needs parentheses/],
    ['(a or)', /name was expected/],
    ['(a >= )', /version was expected/],
    ['(a b)', /'\)' expected/],
    ['(a or b) c', /after the closing/],
    ['a or b', /starts with/],
    ['(a ~ 1)', /'\)' expected/],
  ])('refuses %s naming it', (text, why) => {
    expect(() => parseRich(text)).toThrow(why);
    expect(() => parseRich(text)).toThrow(text);
  });
});

describe('rich dependency evaluation', () => {
  const avail = { a: '1.0', b: '2.0', c: '1.0', d: '3.0' };
  it.each([
    // [expression, chosen, holds, needs]
    ['(a or b)', [], false, [['a', 'b']]],
    ['(a or b)', ['b'], true, []],
    ['(a >= 2 or b)', [], false, [['b']]],
    ['(a and b)', ['a'], false, [['b']]],
    ['(a if b)', [], true, []],
    ['(a if b)', ['b'], false, [['a']]],
    ['(a if b else c)', [], false, [['c']]],
    ['(a if b else c)', ['b'], false, [['a']]],
    ['(a unless b)', [], false, [['a']]],
    ['(a unless b)', ['b'], true, []],
    ['(a unless b else c)', ['b'], false, [['c']]],
    ['(a with a >= 1)', [], false, [['a']]],
    ['(a without a >= 1)', [], false, undefined],
    ['(x or (b and c))', [], false, [['b'], ['c']]],
    ['(x or y)', [], false, undefined],
    ['((x or a) and (d if a))', ['a'], false, [['d']]],
    ['((b and c) or a)', [], false, [['b'], ['c']]],
  ] as const)('%s with %j chosen: holds=%s', (text, chosen, holds, needs) => {
    const w = world(avail, [...chosen]);
    const e = parseRich(text);
    expect(richHolds(e, w)).toBe(holds);
    expect(richNeeds(e, w)).toEqual(needs);
  });
});
