import { z } from 'zod';

/**
 * The contract between planning RHEL-family packages and carrying them: what `plan` resolved for
 * one target OS (every package pinned to the exact repository file and the checksum its signed
 * repomd → primary chain gives), and what `fetch` downloads, verifies and turns into one signed
 * RPM repository per architecture under `repos/<os>/<arch>/`. Part of plan.json (`rpms`), so a
 * fetch needs no second resolution.
 */

const sha256Hex = z.string().regex(/^[0-9a-f]{64}$/);

/** One upstream repository the set was resolved from (BaseOS, AppStream, CRB, EPEL, docker-ce…). */
export const RpmSourceSchema = z.object({
  /** Ferry's repository id: 'baseos', 'appstream', 'crb', 'epel', 'docker-ce-stable', or the user's. */
  id: z.string().min(1),
  /** Base URL holding repodata/ (for one architecture): …/9/BaseOS/x86_64/os. */
  uri: z.string().min(1),
  /** RPM architecture this source serves (x86_64, aarch64). */
  arch: z.string().min(1),
  /** repomd.xml `<revision>` and the sha256 of the repomd.xml the set was resolved from. */
  revision: z.string().optional(),
  repomdSha256: sha256Hex.optional(),
  /** Whether repomd.xml.asc was published and verified (false: the mirror signs nothing). */
  repomdSigned: z.boolean(),
});
export type RpmSource = z.infer<typeof RpmSourceSchema>;

export const ResolvedRpmSchema = z.object({
  name: z.string().min(1),
  epoch: z.number().int().nonnegative(),
  version: z.string().min(1),
  release: z.string().min(1),
  /** RPM architecture of the file: a target arch or 'noarch'. */
  arch: z.string().min(1),
  /** The RpmSource.id it comes from, and the architecture of the repository it was resolved in. */
  source: z.string().min(1),
  repoArch: z.string().min(1),
  /** primary's `<location href>`, relative to the source's uri (Packages/c/conntrack-…rpm). */
  location: z.string().min(1),
  sha256: sha256Hex,
  size: z.number().int().nonnegative(),
  /** True when the package is a modular artifact (listed in an AppStream modulemd). */
  modular: z.boolean().optional(),
  /** Why it is in the set: a root's reason, or 'Requires of <pkg>: <dep>', for `ferry plan`. */
  why: z.string(),
});
export type ResolvedRpm = z.infer<typeof ResolvedRpmSchema>;

export const ResolvedRpmSetSchema = z.object({
  /** Ferry's OS id: 'rocky-9', 'alma-10', 'rhel-9'. */
  os: z.string().min(1),
  /** Target RPM architectures ('x86_64', 'aarch64'). */
  arches: z.array(z.string().min(1)).min(1),
  sources: z.array(RpmSourceSchema).min(1),
  /** The packages asked for, and where each request came from (Kubespray role, extra, …). */
  roots: z.array(z.object({ name: z.string().min(1), why: z.string() })),
  packages: z.array(ResolvedRpmSchema),
  /**
   * The public keys the nodes need for this OS (the distribution's, EPEL's, Docker's), as plan
   * time fetched them and checked them against their pinned fingerprints, or as the user gave
   * them (--rpm-key). Fetch carries them as repos/<os>/<file> and refuses a package whose
   * signature names none of them: dnf with gpgcheck=1 on a node would refuse it anyway.
   */
  keys: z
    .array(
      z.object({
        /** File name in repos/<os>/ and on the node ('RPM-GPG-KEY-Rocky-9'). */
        file: z.string().regex(/^RPM-GPG-KEY-[A-Za-z0-9._-]+$/),
        /** The armored public key block(s). */
        armored: z.string().min(1),
        /** Primary-key fingerprints it was checked against (40 upper-case hex digits). */
        fingerprints: z.array(z.string().regex(/^[0-9A-F]{40}$/)).optional(),
        /** The RpmSource ids it signs (absent: any). */
        sources: z.array(z.string().min(1)).optional(),
      }),
    )
    .optional(),
  /**
   * The modulemd (and modulemd-defaults) YAML documents of the streams the modular packages
   * belong to, verbatim from the upstream `modules` metadata, so dnf on the node keeps them
   * visible. Empty or absent when nothing modular is carried.
   */
  modules: z.string().optional(),
});
export type ResolvedRpmSet = z.infer<typeof ResolvedRpmSetSchema>;
