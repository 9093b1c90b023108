import fs from 'node:fs/promises';
import path from 'node:path';
import { EXIT, FerryError } from '../../core/base/errors/index.js';
import { configDir } from '../../core/base/config/dirs.js';
import { writeFileAtomic } from '../../core/base/fs/atomic.js';
import { loadKubespray } from '../../core/plan/catalog/index.js';
import {
  DEFAULT_FILES_PORT,
  DEFAULT_REGISTRY_PORT,
  defaultAdvertiseAddress,
} from '../../core/serve/server.js';
import { ensureCa } from '../../core/serve/tls/ca.js';
import {
  bundleVars,
  checkBundleVars,
  containerdHostsFiles,
  type NamingStyle,
} from '../../core/serve/vars/index.js';
import { pipConfig } from '../../core/kinds/python/pip-config.js';
import type { Command } from '../command.js';
import { printJson, println, str, strs } from '../output.js';
import { openSources, parsePort, bundleOptions } from './serve.js';
import { signatureOptions } from './verify.js';
import type { BundleSource } from '../../core/bundle/source.js';

import { aptPrestep, aptReposOf, aptVars } from '../../core/kinds/deb/vars.js';
import { rpmReposOf, rpmVars } from '../../core/kinds/rpm/vars.js';

const DEFAULT_CA_ON_NODE = '/usr/local/share/ca-certificates/ferry-ca.crt';

export const vars: Command = {
  name: 'vars',
  summary: 'Write Kubespray’s offline.yml for the bundle’s Kubespray version, pointing at Ferry',
  description:
    'Generates files_repo, registry_host, registry_addr, every *_image_repo (Kubespray style) or\n' +
    'containerd_registries_mirrors (mirror style), and every download URL variable, using only variables the\n' +
    'bundle’s Kubespray version defines. Then checks it the strong way: Kubespray’s own download templates are\n' +
    'rendered with these variables against a throw-away Ferry serving the bundle on loopback, and every file and\n' +
    'image the plan needs must resolve to Ferry and be served (exit 1 if not).',
  options: {
    ...bundleOptions('The bundle the cluster installs from.'),
    style: {
      type: 'string',
      valueName: 'kubespray|mirror',
      description:
        'Image naming: kubespray (registry_host/<path>, default) or mirror (original names via containerd mirrors).',
    },
    hostname: {
      type: 'string',
      multiple: true,
      valueName: 'NAME',
      description: 'Name or address nodes reach Ferry by (default: this machine’s first address).',
    },
    'files-port': {
      type: 'string',
      valueName: 'N',
      description: `Ferry file server port (default ${DEFAULT_FILES_PORT}).`,
    },
    'registry-port': {
      type: 'string',
      valueName: 'N',
      description: `Ferry registry port (default ${DEFAULT_REGISTRY_PORT}).`,
    },
    'files-url': {
      type: 'string',
      valueName: 'URL',
      description: 'files_repo, if not Ferry’s file server (e.g. https://files.example.com/k8s).',
    },
    registry: {
      type: 'string',
      valueName: 'HOST[/PREFIX]',
      description: 'A registry you pushed to with `ferry push` instead of Ferry’s.',
    },
    tls: {
      type: 'boolean',
      description: 'Ferry serves with --tls: https URLs, and the CA goes into the variables.',
    },
    'tls-dir': {
      type: 'string',
      valueName: 'DIR',
      description: 'Where Ferry keeps its CA (default: <config dir>/tls).',
    },
    ca: {
      type: 'string',
      valueName: 'FILE',
      description: 'CA certificate of --registry / --files-url, carried into the variables.',
    },
    'ca-path': {
      type: 'string',
      valueName: 'PATH',
      description: `Where nodes keep the CA (default ${DEFAULT_CA_ON_NODE}).`,
    },
    'skip-verify': {
      type: 'boolean',
      description: 'Tell containerd not to verify the registry certificate (instead of trusting a CA).',
    },
    kubespray: {
      type: 'string',
      valueName: 'DIR|TARBALL',
      description: 'Kubespray to read variables from (default: the tarball in the bundle).',
    },
    output: {
      type: 'string',
      short: 'o',
      valueName: 'FILE',
      description: 'Write offline.yml here (default: print it).',
    },
    containerd: {
      type: 'string',
      valueName: 'DIR',
      description:
        'Also write DIR/<registry>/hosts.toml, as Kubespray’s containerd role renders them from these variables (for /etc/containerd/certs.d).',
    },
    'pip-conf': {
      type: 'string',
      valueName: 'FILE',
      description:
        'Also write a pip.conf pointing the deploy host’s pip at Ferry’s Python index (<files>/simple/), when the bundle carries wheels.',
    },
    'skip-check': { type: 'boolean', description: 'Do not render and probe the plan with the variables.' },
    'os-prestep': {
      type: 'boolean',
      description:
        'Print the node pre-step playbook the bundle carries (points apt and dnf at Ferry before cluster.yml; run it with these variables).',
    },
    'os-prestep-shell': {
      type: 'string',
      valueName: 'OS',
      description: 'Print the same pre-step as a shell snippet for one OS of the bundle (e.g. debian-12).',
    },
    'allow-damaged': {
      type: 'boolean',
      description: 'Use the intact part of a damaged bundle (the check then reports what is left out).',
    },
    ...signatureOptions,
  },
  async run(ctx) {
    const style = (str(ctx.values.style) ?? 'kubespray') as NamingStyle;
    if (style !== 'kubespray' && style !== 'mirror')
      throw new FerryError('USAGE', `--style is kubespray or mirror, not '${style}'.`);
    const host = strs(ctx.values.hostname)[0] ?? defaultAdvertiseAddress();
    const tls = ctx.values.tls === true;
    const scheme = tls ? 'https' : 'http';
    const hostPart = host.includes(':') && !host.startsWith('[') ? `[${host}]` : host;
    const filesUrl =
      str(ctx.values['files-url']) ??
      `${scheme}://${hostPart}:${parsePort(ctx.values['files-port'], 'files-port', DEFAULT_FILES_PORT)}`;
    const external = str(ctx.values.registry);
    const registry =
      external ??
      `${hostPart}:${parsePort(ctx.values['registry-port'], 'registry-port', DEFAULT_REGISTRY_PORT)}`;
    if (!/^https?:\/\/[^\s/]+(\/\S*)?$/.test(filesUrl))
      throw new FerryError('USAGE', `--files-url '${filesUrl}' is not an http(s) URL.`);
    let caPem: string | undefined;
    const caFile = str(ctx.values.ca);
    if (caFile)
      caPem = await fs.readFile(caFile, 'utf8').catch((err) => {
        throw new FerryError(
          'CONFIG',
          `Cannot read the CA certificate ${caFile}: ${(err as Error).message}`,
          { artifact: caFile },
        );
      });
    else if (tls && ctx.values['skip-verify'] !== true)
      caPem = (await ensureCa(str(ctx.values['tls-dir']) ?? path.join(configDir(ctx.env), 'tls'))).certPem;
    const [source] = await openSources(ctx, (line) => (ctx.json ? undefined : ctx.stderr.write(line + '\n')));
    if (ctx.values['os-prestep'] === true || str(ctx.values['os-prestep-shell']))
      return printPrestep(ctx, source, filesUrl, str(ctx.values['os-prestep-shell']));
    const ks = str(ctx.values.kubespray);
    const data = ks
      ? await loadKubespray((await fs.stat(ks)).isDirectory() ? { dir: ks } : { tarball: ks }, {
          signal: ctx.signal,
        })
      : undefined;
    const madeBy = [
      'ferry vars',
      ...Object.entries(ctx.values).flatMap(([k, v]) =>
        v === true ? [`--${k}`] : strs(v).map((x) => `--${k} ${x}`),
      ),
    ]
      .join(' ')
      .slice(0, 300);
    const { generated, data: loaded } = await bundleVars({
      source,
      data,
      filesUrl,
      registry,
      registryTls: external ? !!caPem || ctx.values['skip-verify'] === true || tls : tls,
      style,
      caPem,
      caPathOnNode: str(ctx.values['ca-path']) ?? DEFAULT_CA_ON_NODE,
      skipVerify: ctx.values['skip-verify'] === true,
      madeBy,
      signal: ctx.signal,
    });
    const check =
      ctx.values['skip-check'] === true ? undefined : await checkBundleVars({ source, data: loaded, style });
    const out = str(ctx.values.output);
    if (out) await writeFileAtomic(path.resolve(out), generated.yaml);
    const hostsDir = str(ctx.values.containerd);
    const hostsFiles = hostsDir ? containerdHostsFiles(generated.variables, loaded.tag) : [];
    for (const f of hostsFiles) {
      const target = path.resolve(hostsDir ?? '.', f.path);
      await fs.mkdir(path.dirname(target), { recursive: true });
      await writeFileAtomic(target, f.text);
    }
    // The deploy host's pip: Ferry's file server also serves the bundle's wheels at /simple/.
    const pip = source.manifest.artifacts.some((a) => a.kind === 'wheel')
      ? pipConfig({
          // Ferry's own file server, even when files_repo points elsewhere (--files-url).
          indexUrl: `${scheme}://${hostPart}:${parsePort(ctx.values['files-port'], 'files-port', DEFAULT_FILES_PORT)}/simple/`,
          ...(tls ? { caFile: str(ctx.values['ca-path']) ?? DEFAULT_CA_ON_NODE } : {}),
        })
      : undefined;
    const pipOut = str(ctx.values['pip-conf']);
    if (pipOut && !pip)
      throw new FerryError(
        'NOT_FOUND',
        'The bundle carries no Python wheels, so there is no index for pip.',
        {
          hint: 'Fetch the bundle with the deploy host’s Python packages, or leave out --pip-conf.',
        },
      );
    if (pipOut && pip) await writeFileAtomic(path.resolve(pipOut), pip.pipConf);
    if (ctx.json)
      printJson(ctx, {
        ok: check?.ok ?? true,
        ...(pip ? { pip: { ...pip, ...(pipOut ? { output: pipOut } : {}) } } : {}),
        output: out,
        variables: generated.variables,
        overridden: generated.overridden,
        check,
        containerd: hostsDir ? hostsFiles.map((f) => path.join(hostsDir, f.path)) : undefined,
        yaml: out ? undefined : generated.yaml,
      });
    else {
      if (!out) ctx.stdout.write(generated.yaml);
      const say = (l: string) => (out ? println(ctx, l) : ctx.stderr.write(l + '\n'));
      if (out)
        say(`Wrote ${out} (${generated.overridden.length} Kubespray variables overridden, ${style} naming).`);
      if (pip) {
        say(
          pipOut
            ? `Wrote ${pipOut}: the deploy host's pip installs from Ferry's Python index (copy to /etc/pip.conf).`
            : `The deploy host's pip (pip.conf [global] or environment; --pip-conf FILE writes it):`,
        );
        for (const [k, v] of Object.entries(pip.env)) say(`  export ${k}=${v}`);
        say(`  pip install --require-hashes -r ${pip.requirementsUrl}`);
      }
      if (hostsDir)
        say(
          `Wrote ${hostsFiles.length} containerd hosts.toml file(s) under ${hostsDir} (copy to /etc/containerd/certs.d).`,
        );
      if (check) {
        if (check.ok)
          say(
            `Checked: all ${check.files} files${check.charts ? `, ${check.charts} Helm chart(s)` : ''} and ${check.images} images Kubespray's templates need with these variables resolve to Ferry and are served.`,
          );
        else {
          say(
            `CHECK FAILED: ${check.problems.length} of ${check.files + check.images + check.charts} downloads would not come from Ferry:`,
          );
          for (const p of check.problems.slice(0, 30))
            say(
              `  ${p.problem === 'not-ferry' ? 'bypasses Ferry' : p.problem === 'containerd-https' ? 'containerd would speak HTTPS (no http:// mirror)' : 'not served'}: ${p.kind} ${p.key} ${p.target}`,
            );
        }
      }
    }
    return check && !check.ok ? EXIT.INTEGRITY : EXIT.OK;
  },
};

/** `--os-prestep`: the bundle's pre-step playbook (verified bytes); `--os-prestep-shell OS`: the shell form. */
async function printPrestep(
  ctx: Parameters<Command['run']>[0],
  source: BundleSource,
  filesUrl: string,
  shellOs: string | undefined,
): Promise<number> {
  const pre = await aptPrestep(source, filesUrl);
  if (!pre)
    throw new FerryError(
      'NOT_FOUND',
      'The bundle carries no apt or RPM repository, so there is no OS pre-step.',
      {
        hint: 'Plan the bundle with target OSes (--os) so it carries their packages.',
      },
    );
  if (shellOs) {
    const sh = pre.shell.find((x) => x.os === shellOs);
    if (!sh)
      throw new FerryError('USAGE', `The bundle has no apt or RPM repository for ${shellOs}.`, {
        hint: `It has: ${pre.shell.map((x) => x.os).join(', ')}.`,
      });
    if (ctx.json) printJson(ctx, { os: sh.os, shell: sh.text });
    else ctx.stdout.write(sh.text);
    return EXIT.OK;
  }
  if (ctx.json)
    printJson(ctx, {
      playbook: pre.playbook,
      variables: { ...aptVars(filesUrl, await aptReposOf(source)), ...rpmVars(filesUrl, rpmReposOf(source)) },
    });
  else {
    ctx.stdout.write(pre.playbook);
    ctx.stderr.write(`Run it before cluster.yml: ${pre.command}\n`);
  }
  return EXIT.OK;
}
