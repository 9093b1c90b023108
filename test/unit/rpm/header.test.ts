import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { gunzipSync } from 'node:zlib';
import { beforeAll, describe, expect, it } from 'vitest';
import { FerryError } from '../../../src-main/core/base/errors/index.js';
import {
  readRpmHeader,
  rpmHeaderTap,
  type RpmHeader,
  type RpmHeaderDep,
} from '../../../src-main/core/kinds/rpm/header.js';
import { buildRpmUpstream, lacksRpmTools, ODD_SPECS } from '../../helpers/rpm-upstream.js';
import { hasTool } from '../../helpers/tools.js';

/**
 * header.ts against rpm itself: every field `rpm -qp --queryformat` prints for the fixture's
 * packages (both arches, noarch, i686, modular, signed), and the header-range and sizes
 * createrepo_c wrote into the fixture's primary.xml.
 */

const RS = '\x1e';
const US = '\x1f';

const GS = '\x1d';
let allRpms: string[] = [];
const queried = new Map<string, Map<string, string>>();

/**
 * `rpm -qp --queryformat fmt` for one file, run once per format over every fixture file (one
 * rpm process instead of hundreds: the machine is shared).
 */
function q(file: string, fmt: string): string {
  let m = queried.get(fmt);
  if (!m) {
    const out = execFileSync(
      'rpm',
      ['-qp', '--nosignature', '--nodigest', '--queryformat', `${fmt}${GS}`, ...allRpms],
      { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], maxBuffer: 256 << 20 },
    ).split(GS);
    m = new Map(allRpms.map((f, i) => [f, out[i]]));
    queried.set(fmt, m);
  }
  const v = m.get(file);
  if (v === undefined) throw new Error(`rpm printed nothing for ${file}`);
  return v;
}

/** rpm's own rendering of a dependency list (name, raw flags, EVR). */
function rpmDeps(file: string, tag: string): Array<[string, number, string]> {
  const out = q(file, `[%{${tag}NAME}${US}%{${tag}FLAGS}${US}%{${tag}VERSION}${RS}]`);
  return out
    .split(RS)
    .filter(Boolean)
    .map((l) => {
      const [n, f, v] = l.split(US);
      return [n, Number(f), v] as [string, number, string];
    });
}

function ours(deps: RpmHeaderDep[]): Array<[string, number, string]> {
  return deps.map((d) => {
    const evr =
      d.ver === undefined
        ? ''
        : `${d.epoch !== undefined ? `${d.epoch}:` : ''}${d.ver}${d.rel !== undefined ? `-${d.rel}` : ''}`;
    return [d.name, d.rawFlags, evr];
  });
}

const none = (s: string): string | undefined => (s === '(none)' ? undefined : s);

describe.skipIf(lacksRpmTools(false) || !hasTool('rpm'))('readRpmHeader against rpm -qp', () => {
  let rpms: string[];
  let root: string;
  let oddRoot: string;
  beforeAll(() => {
    root = buildRpmUpstream().root;
    // The odd shapes too: UTF-8 and XML specials, epoch, 600 files, symlinks, long changelog.
    oddRoot = buildRpmUpstream(ODD_SPECS).root;
    rpms = [root, oddRoot]
      .flatMap((r) => execFileSync('find', [r, '-name', '*.rpm'], { encoding: 'utf8' }).split('\n'))
      .filter(Boolean)
      .sort();
    allRpms = rpms;
    // rpmbuild on a cold cache takes tens of seconds on a loaded machine.
  }, 300_000);

  it('covers the fixture kinds (arches, noarch, i686, modular)', () => {
    const arches = new Set(rpms.map((f) => /\.(\w+)\.rpm$/.exec(f)![1]));
    expect([...arches].sort()).toEqual(['aarch64', 'i686', 'noarch', 'x86_64']);
    expect(rpms.length).toBeGreaterThan(30);
  });

  it('reads every scalar field as rpm prints it', async () => {
    const fields = [
      'NAME',
      'EPOCH',
      'VERSION',
      'RELEASE',
      'ARCH',
      'SUMMARY',
      'URL',
      'LICENSE',
      'VENDOR',
      'GROUP',
      'PACKAGER',
      'BUILDHOST',
      'SOURCERPM',
      'BUILDTIME',
      'LONGSIZE',
      'LONGARCHIVESIZE',
      'PAYLOADFORMAT',
      'PAYLOADCOMPRESSOR',
      'MODULARITYLABEL',
      'DESCRIPTION',
    ];
    for (const f of rpms) {
      const vals = q(f, fields.map((x) => `%{${x}}`).join(RS)).split(RS);
      const r = Object.fromEntries(fields.map((k, i) => [k, vals[i]]));
      const h = await readRpmHeader(f);
      expect(
        {
          name: h.name,
          epoch: h.epoch,
          version: h.version,
          release: h.release,
          arch: h.arch,
          summary: h.summary,
          url: h.url,
          license: h.license,
          vendor: h.vendor,
          group: h.group,
          packager: h.packager,
          buildhost: h.buildhost,
          sourcerpm: h.sourcerpm,
          buildTime: h.buildTime,
          installedSize: h.installedSize,
          archiveSize: h.archiveSize,
          payloadFormat: h.payloadFormat,
          payloadCompressor: h.payloadCompressor,
          modularityLabel: h.modularityLabel,
          description: h.description,
        },
        path.basename(f),
      ).toEqual({
        name: r.NAME,
        epoch: none(r.EPOCH) === undefined ? undefined : Number(r.EPOCH),
        version: r.VERSION,
        release: r.RELEASE,
        arch: r.ARCH,
        summary: r.SUMMARY,
        url: none(r.URL),
        license: none(r.LICENSE),
        vendor: none(r.VENDOR),
        group: none(r.GROUP),
        packager: none(r.PACKAGER),
        buildhost: none(r.BUILDHOST),
        sourcerpm: none(r.SOURCERPM),
        buildTime: Number(r.BUILDTIME),
        installedSize: Number(r.LONGSIZE),
        archiveSize: Number(r.LONGARCHIVESIZE),
        payloadFormat: none(r.PAYLOADFORMAT),
        payloadCompressor: none(r.PAYLOADCOMPRESSOR),
        modularityLabel: none(r.MODULARITYLABEL),
        description: r.DESCRIPTION,
      });
    }
  });

  it('reads every relation with its raw flags and EVR as rpm prints them', async () => {
    let versioned = 0;
    let pre = 0;
    for (const f of rpms) {
      const h = await readRpmHeader(f);
      const pairs: Array<[keyof RpmHeader, string]> = [
        ['provides', 'PROVIDE'],
        ['requires', 'REQUIRE'],
        ['conflicts', 'CONFLICT'],
        ['obsoletes', 'OBSOLETE'],
        ['recommends', 'RECOMMEND'],
        ['suggests', 'SUGGEST'],
        ['supplements', 'SUPPLEMENT'],
        ['enhances', 'ENHANCE'],
      ];
      for (const [k, tag] of pairs) {
        expect(ours(h[k] as RpmHeaderDep[]), `${path.basename(f)} ${k}`).toEqual(rpmDeps(f, tag));
        versioned += (h[k] as RpmHeaderDep[]).filter((d) => d.flags && d.ver).length;
      }
      pre += h.requires.filter((d) => d.pre).length;
    }
    expect(versioned).toBeGreaterThan(50);
    expect(pre).toBeGreaterThan(0);
  });

  it('reads the file list (paths, modes, flags) and the changelog', async () => {
    for (const f of rpms) {
      const h = await readRpmHeader(f);
      const files = q(f, `[%{FILENAMES}${US}%{FILEMODES}${US}%{FILEFLAGS}${RS}]`)
        .split(RS)
        .filter(Boolean)
        .map((l) => l.split(US));
      expect(
        h.files.map((x) => [x.path, String(x.mode), String(x.flags)]),
        path.basename(f),
      ).toEqual(files);
      const log = q(f, `[%{CHANGELOGTIME}${US}%{CHANGELOGNAME}${US}%{CHANGELOGTEXT}${RS}]`)
        .split(RS)
        .filter(Boolean)
        .map((l) => l.split(US));
      expect(h.changelog.map((c) => [String(c.date), c.author, c.text])).toEqual(log);
    }
    const core = await readRpmHeader(rpms.find((f) => f.endsWith('ferry-core-1.0-1.el9.x86_64.rpm'))!);
    expect(core.files.map((x) => `${x.type} ${x.path}`)).toEqual([
      'file /etc/ferry/core.conf',
      'file /usr/bin/ferry-core',
      'dir /usr/share/ferry-core',
      'file /usr/share/ferry-core/README',
      'ghost /var/log/ferry-core.log',
    ]);
  });

  it('names the signing key as rpm -qpi does', async () => {
    for (const f of rpms) {
      const h = await readRpmHeader(f);
      const sig = q(f, '%{RSAHEADER:pgpsig}');
      const keyId = /Key ID ([0-9a-f]{16})/.exec(sig)![1].toUpperCase();
      expect(h.signature?.keyId, path.basename(f)).toBe(keyId);
      expect(h.signature?.tag).toBe('rsa');
      expect(h.signature?.pubkeyAlgorithm).toBe(1);
    }
    for (const r of [root, oddRoot]) {
      const fpr = fs.readFileSync(path.join(r, '..', 'FINGERPRINT'), 'utf8').trim();
      const h = await readRpmHeader(rpms.find((f) => f.startsWith(r))!);
      expect(h.signature?.fingerprint).toBe(fpr);
      expect(h.signature?.keyId).toBe(fpr.slice(-16));
    }
  });

  it('reads the odd package’s shapes', async () => {
    const odd = await readRpmHeader(rpms.find((f) => f.endsWith('ferry-odd-1.2.3^post1-1.el9.x86_64.rpm'))!);
    expect(odd.epoch).toBe(3);
    expect(odd.description).toContain('Größe – ✓ & <xml>');
    expect(odd.files.length).toBeGreaterThan(600);
    expect(odd.changelog.length).toBe(16);
    expect(odd.requires.find((d) => d.name === 'ferry-e')).toMatchObject({
      flags: 'EQ',
      epoch: 2,
      ver: '1.0',
      rel: '3.el9',
    });
    const data = await readRpmHeader(rpms.find((f) => f.includes('ferry-odd-data-0~beta1'))!);
    expect(data.url).toBeUndefined();
    expect(data.files.map((f) => f.path)).toContain('/usr/share/ferry-odd-data/a b.txt');
  });

  it('agrees with createrepo_c on header-range and sizes', async () => {
    const repodata = path.join(root, '9', 'BaseOS', 'x86_64', 'os', 'repodata');
    const primary = fs.readdirSync(repodata).find((n) => n.endsWith('-primary.xml.gz'))!;
    const xml = gunzipSync(fs.readFileSync(path.join(repodata, primary))).toString('utf8');
    const entries = [
      ...xml.matchAll(/<location href="([^"]+)"[\s\S]*?<rpm:header-range start="(\d+)" end="(\d+)"/g),
    ];
    const sizes = [
      ...xml.matchAll(
        /<size package="(\d+)" installed="(\d+)" archive="(\d+)"\/>\s*<location href="([^"]+)"/g,
      ),
    ];
    expect(entries.length).toBeGreaterThan(10);
    for (const [, loc, start, end] of entries) {
      const h = await readRpmHeader(path.join(repodata, '..', loc));
      expect(h.headerRange, loc).toEqual({ start: Number(start), end: Number(end) });
    }
    for (const [, , installed, archive, loc] of sizes) {
      const h = await readRpmHeader(path.join(repodata, '..', loc));
      expect([h.installedSize, h.archiveSize], loc).toEqual([Number(installed), Number(archive)]);
    }
  });

  it('reads from a stream without consuming the payload', async () => {
    const f = rpms.find((x) => x.endsWith('.x86_64.rpm'))!;
    const bytes = fs.readFileSync(f);
    let pulled = 0;
    // 1 KiB chunks: the reader must stop asking once it has the main header.
    const src = Readable.from(
      (function* () {
        for (let i = 0; i < bytes.length; i += 1024) {
          pulled = i + 1024;
          yield bytes.subarray(i, i + 1024);
        }
      })(),
    );
    const h = await readRpmHeader(src, 'stream.rpm');
    expect(h).toEqual(await readRpmHeader(f));
    expect(pulled).toBeLessThan(h.headerRange.end + 1024 * 17);
    src.destroy();
  });

  it('refuses a truncated or foreign file naming it', async () => {
    const f = rpms[0];
    const bytes = fs.readFileSync(f);
    const h = await readRpmHeader(f);
    await expect(
      readRpmHeader(Readable.from([bytes.subarray(0, h.headerRange.end - 10)]), 'cut.rpm'),
    ).rejects.toThrow(/cut\.rpm is not a readable RPM package: the file ends inside the main header/);
    const notRpm = Buffer.from(bytes);
    notRpm[0] = 0;
    const err = await readRpmHeader(Readable.from([notRpm]), 'x.rpm').catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FerryError);
    expect((err as FerryError).code).toBe('INTEGRITY');
    expect((err as FerryError).artifact).toBe('x.rpm');
    const badHeader = Buffer.from(bytes);
    badHeader[h.headerRange.start] = 0;
    await expect(readRpmHeader(Readable.from([badHeader]), 'y.rpm')).rejects.toThrow(
      /no header magic at the main header/,
    );
  });
});

describe.skipIf(lacksRpmTools(false))('rpmHeaderTap (the header of bytes being streamed anyway)', () => {
  let files: string[];
  beforeAll(() => {
    const root = buildRpmUpstream(ODD_SPECS).root;
    files = execFileSync('find', [root, '-name', '*.rpm'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  }, 300_000);

  it('gives the same header as readRpmHeader for any chunking, and ignores the rest', async () => {
    for (const f of files) {
      const bytes = fs.readFileSync(f);
      const want = await readRpmHeader(f);
      for (const size of [1, 7, 100, 4096, bytes.length]) {
        const tap = rpmHeaderTap(path.basename(f));
        const chunk = Buffer.alloc(size);
        for (let i = 0; i < bytes.length; i += size) {
          // The same buffer each time, as a stream reader may reuse it: the tap must copy.
          const n = bytes.copy(chunk, 0, i, i + size);
          tap.push(chunk.subarray(0, n));
        }
        tap.end();
        expect(await tap.header, `${path.basename(f)} by ${size}`).toEqual(want);
      }
    }
  });

  it('refuses a file that ends inside its header, or is no RPM, naming it', async () => {
    const bytes = fs.readFileSync(files[0]);
    const h = await readRpmHeader(files[0]);
    const cut = rpmHeaderTap('cut.rpm');
    cut.push(bytes.subarray(0, h.headerRange.end - 1));
    cut.end();
    await expect(cut.header).rejects.toThrow(
      /cut\.rpm is not a readable RPM package: the file ends inside the main header/,
    );
    const html = rpmHeaderTap('page.rpm');
    html.push(Buffer.from('<html>'.repeat(100)));
    await expect(html.header).rejects.toThrow(/page\.rpm is not a readable RPM package: no RPM lead magic/);
  });
});
