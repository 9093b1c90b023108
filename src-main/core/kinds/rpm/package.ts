/**
 * One package as repository metadata describes it (primary.xml, with filelists' files merged in
 * when they are needed): the record the metadata readers produce and the resolver consumes.
 * Types only; the readers (primary.ts, filelists.ts), the resolver (resolve.ts) and the repodata
 * writer (repodata.ts, which builds the same shape from .rpm headers) share it.
 */

/** rpm's comparison flags as primary.xml spells them. */
export type RpmFlag = 'EQ' | 'LT' | 'LE' | 'GT' | 'GE';

/**
 * One relation entry: a name (a package, a virtual provide, a file path '/usr/bin/sh', or a rich
 * dependency '(a or b)' kept verbatim), with an optional versioned comparison.
 */
export interface RpmDep {
  name: string;
  flags?: RpmFlag;
  epoch?: number;
  ver?: string;
  rel?: string;
  /** requires with pre="1" (Requires(pre)). */
  pre?: boolean;
}

export interface RpmEvr {
  epoch: number;
  version: string;
  release: string;
}

export interface RpmPackage extends RpmEvr {
  name: string;
  /** x86_64, aarch64, noarch, i686, src… */
  arch: string;
  /** The checksum primary gives (pkgid), and its type ('sha256'; older repos 'sha'/'sha1'). */
  checksum: { type: string; value: string };
  /** `<location href>` relative to the repository base URL. */
  location: string;
  /** `<size package>`: bytes of the .rpm file. */
  size: number;
  sourcerpm?: string;
  provides: RpmDep[];
  requires: RpmDep[];
  conflicts: RpmDep[];
  obsoletes: RpmDep[];
  recommends: RpmDep[];
  suggests: RpmDep[];
  supplements: RpmDep[];
  enhances: RpmDep[];
  /** File paths primary lists (bin dirs, /etc); filelists adds the rest when asked. */
  files: string[];
  /** Which source (RpmSource.id) it was read from. */
  repo: string;
}
