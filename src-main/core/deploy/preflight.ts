import { Agent, fetch as undiciFetch } from 'undici';
import { parse as parseYaml } from 'yaml';
import { capture, type InventoryHost } from './workspace.js';

/**
 * Checks before Ansible starts, each naming the node and the fix: a deploy that fails after
 * twenty minutes on an unreachable node or a skewed clock costs the technician far more than
 * ten seconds of checking first.
 */
export type CheckName = 'ssh' | 'python' | 'clock' | 'disk' | 'files' | 'registry';

export interface PreflightCheck {
  /** Node name, or 'deploy host' for the checks of Ferry's services. */
  node: string;
  check: CheckName;
  ok: boolean;
  detail: string;
  fix?: string;
}

export interface PreflightOptions {
  hosts: InventoryHost[];
  /** offline.yml text: files_repo and registry_host are probed from the deploy host. */
  offlineYml?: string;
  sshUser?: string | undefined;
  sshKey?: string | undefined;
  /** Extra ssh -o options (e.g. StrictHostKeyChecking=accept-new), as ansible gets them. */
  sshOptions?: string[];
  /** CA that signs Ferry's (or the user's) TLS certificate. */
  caPem?: string | undefined;
  minFreeGiB?: number | undefined;
  maxSkewSeconds?: number | undefined;
  timeoutMs?: number;
  env?: NodeJS.ProcessEnv | undefined;
  now?: () => number;
}

// Runs with sh on the node (any POSIX system Kubespray supports); read from stdin so nothing
// needs quoting through ssh. Free space is of /var, where containerd and etcd keep their data.
const PROBE = `py=$(command -v python3 || command -v python || true)
echo "python=$py"
[ -n "$py" ] && "$py" -c 'import sys; print("pyver=%d.%d.%d" % sys.version_info[:3])' 2>/dev/null
echo "epoch=$(date +%s)"
df -Pk /var 2>/dev/null | awk 'NR==2 {print "freekb=" $4}'
`;

export async function preflight(o: PreflightOptions): Promise<PreflightCheck[]> {
  const now = o.now ?? (() => Date.now() / 1000);
  const minFree = o.minFreeGiB ?? 10;
  const maxSkew = o.maxSkewSeconds ?? 30;
  const checks: PreflightCheck[] = [];
  await Promise.all(
    o.hosts.map(async (h) => {
      const local = h.connection === 'local';
      const user = h.user ?? o.sshUser;
      const key = h.key ?? o.sshKey;
      const args = local
        ? ['-s']
        : [
            '-o',
            'BatchMode=yes',
            '-o',
            `ConnectTimeout=${Math.ceil((o.timeoutMs ?? 15_000) / 1000)}`,
            ...(o.sshOptions ?? []).flatMap((x) => ['-o', x]),
            ...(key ? ['-i', key] : []),
            ...(h.port ? ['-p', String(h.port)] : []),
            ...(user ? ['-l', user] : []),
            h.address,
            'sh -s',
          ];
      const t0 = now();
      let r: { code: number; stdout: string; stderr: string };
      try {
        r = await capture(local ? 'sh' : 'ssh', args, o.env, PROBE, o.timeoutMs ?? 15_000);
      } catch (err) {
        checks.push({
          node: h.name,
          check: 'ssh',
          ok: false,
          detail: (err as Error).message,
          fix: 'Install openssh-client.',
        });
        return;
      }
      const t1 = now();
      const kv = Object.fromEntries(
        r.stdout
          .split('\n')
          .map((l) => l.match(/^(\w+)=(.*)$/))
          .filter((m): m is RegExpMatchArray => !!m)
          .map((m) => [m[1], m[2]!.trim()]),
      );
      if (r.code !== 0 || kv.epoch === undefined) {
        const why =
          r.stderr
            .split('\n')
            .map((l) => l.trim())
            .filter((l) => l && !/^Warning: Permanently added/.test(l))
            .slice(-2)
            .join(' ') || `exit ${r.code}`;
        checks.push({
          node: h.name,
          check: 'ssh',
          ok: false,
          detail: local
            ? `cannot run sh: ${why}`
            : `ssh ${user ? user + '@' : ''}${h.address}${h.port ? ':' + h.port : ''}: ${why}`,
          fix: /Permission denied|publickey/.test(why)
            ? `Give a key the node accepts (--ssh-key FILE, --ssh-user USER), or install it with ssh-copy-id ${user ? user + '@' : ''}${h.address}.`
            : /Host key verification failed|REMOTE HOST IDENTIFICATION/.test(why)
              ? `The node's host key is unknown or changed: check it, then add it with ssh-keyscan ${h.address} >> ~/.ssh/known_hosts (or pass --accept-new-host-keys).`
              : `Check that ${h.address} is up, reachable from this machine and runs sshd${h.port ? ' on port ' + h.port : ''}.`,
        });
        return;
      }
      checks.push({
        node: h.name,
        check: 'ssh',
        ok: true,
        detail: local ? 'local connection' : `ssh ${user ? user + '@' : ''}${h.address} works`,
      });
      checks.push(
        kv.python
          ? { node: h.name, check: 'python', ok: true, detail: `${kv.python} ${kv.pyver ?? ''}`.trim() }
          : {
              node: h.name,
              check: 'python',
              ok: false,
              detail: 'no python3 on the node: Ansible cannot run its modules there',
              fix: 'Install python3 on the node (from the OS installation media or the bundle’s OS repository).',
            },
      );
      const skew = Number(kv.epoch) - (t0 + t1) / 2;
      const slack = (t1 - t0) / 2 + 1;
      checks.push(
        Math.abs(skew) <= maxSkew + slack
          ? {
              node: h.name,
              check: 'clock',
              ok: true,
              detail: `clock within ${Math.max(1, Math.round(Math.abs(skew)))} s of this machine`,
            }
          : {
              node: h.name,
              check: 'clock',
              ok: false,
              detail: `clock is ${Math.round(Math.abs(skew))} s ${skew > 0 ? 'ahead of' : 'behind'} this machine (limit ${maxSkew} s): certificates and etcd break`,
              fix: 'Set the node’s clock (an NTP server inside the network, or date -s), then rerun.',
            },
      );
      const freeKb = Number(kv.freekb);
      if (Number.isFinite(freeKb)) {
        const gib = freeKb / 1024 / 1024;
        checks.push(
          gib >= minFree
            ? { node: h.name, check: 'disk', ok: true, detail: `${gib.toFixed(1)} GiB free on /var` }
            : {
                node: h.name,
                check: 'disk',
                ok: false,
                detail: `${gib.toFixed(1)} GiB free on /var, under the ${minFree} GiB images and etcd need`,
                fix: 'Free or add space on the node’s /var (or lower --min-free-gib if you know it suffices).',
              },
        );
      }
    }),
  );
  checks.push(...(await serviceChecks(o)));
  const order = new Map(o.hosts.map((h, i) => [h.name, i]));
  return checks.sort((a, b) => (order.get(a.node) ?? 1e9) - (order.get(b.node) ?? 1e9));
}

async function serviceChecks(o: PreflightOptions): Promise<PreflightCheck[]> {
  if (!o.offlineYml) return [];
  let vars: Record<string, unknown>;
  try {
    vars = (parseYaml(o.offlineYml) as Record<string, unknown>) ?? {};
  } catch {
    return [
      {
        node: 'deploy host',
        check: 'files',
        ok: false,
        detail: 'offline.yml is not YAML',
        fix: 'Write it again with ferry vars -o offline.yml.',
      },
    ];
  }
  const dispatcher = new Agent({
    connect: o.caPem ? { ca: o.caPem } : {},
    connectTimeout: o.timeoutMs ?? 10_000,
  });
  const probe = async (url: string) => {
    try {
      const res = await undiciFetch(url, { dispatcher, signal: AbortSignal.timeout(o.timeoutMs ?? 10_000) });
      await res.body?.cancel();
      return { status: res.status };
    } catch (err) {
      const cause = (err as { cause?: { message?: string; code?: string } }).cause;
      return { error: cause?.code ?? cause?.message ?? (err as Error).message };
    }
  };
  const out: PreflightCheck[] = [];
  try {
    const files = typeof vars.files_repo === 'string' ? vars.files_repo : undefined;
    if (files && !files.includes('{{')) {
      const r = await probe(files.replace(/\/?$/, '/'));
      out.push(
        'status' in r && r.status! < 500
          ? { node: 'deploy host', check: 'files', ok: true, detail: `files_repo ${files} answers` }
          : {
              node: 'deploy host',
              check: 'files',
              ok: false,
              detail: `files_repo ${files} does not answer (${'error' in r ? r.error : 'HTTP ' + r.status})`,
              fix: 'Start ferry serve on the address offline.yml names (or write offline.yml again for the address it serves on).',
            },
      );
    }
    const registry = typeof vars.registry_host === 'string' ? vars.registry_host : undefined;
    if (registry && !registry.includes('{{')) {
      let url = '';
      let r: Awaited<ReturnType<typeof probe>> = { error: 'not probed' };
      // The first address that answers HTTP at all is the registry's; a TLS handshake against a
      // plain-HTTP server (or the reverse) fails below HTTP, so the next scheme is tried.
      for (const candidate of registryProbeUrls(vars)) {
        url = candidate;
        r = await probe(url);
        if ('status' in r) break;
      }
      out.push(
        'status' in r && (r.status === 200 || r.status === 401)
          ? {
              node: 'deploy host',
              check: 'registry',
              ok: true,
              detail: `registry ${registry} answers the OCI API`,
            }
          : {
              node: 'deploy host',
              check: 'registry',
              ok: false,
              detail: `registry ${url} does not answer the OCI API (${'error' in r ? r.error : 'HTTP ' + r.status})`,
              fix: 'Start ferry serve (or the registry you pushed to) on the address offline.yml names.',
            },
      );
    }
  } finally {
    await dispatcher.close();
  }
  return out;
}

/**
 * Where the deploy host asks the registry for its OCI API (`/v2/` of registry_addr; registry_host
 * may carry a path prefix, which is not part of the API's address). The scheme is the registry's
 * own, as the nodes will use it: the containerd_registries_mirrors entry offline.yml writes for
 * registry_addr says http:// or https://. It has nothing to do with files_repo's scheme: Ferry
 * serves files over plain HTTP beside a TLS registry and the reverse. Without such an entry
 * containerd speaks HTTPS, so that is tried first, then HTTP.
 */
export function registryProbeUrls(vars: Record<string, unknown>): string[] {
  const host = typeof vars.registry_host === 'string' ? vars.registry_host.replace(/\/+$/, '') : '';
  const addr =
    typeof vars.registry_addr === 'string' && !vars.registry_addr.includes('{{')
      ? vars.registry_addr
      : host.split('/')[0];
  if (!addr) return [];
  const schemes: string[] = [];
  const mirrors = Array.isArray(vars.containerd_registries_mirrors) ? vars.containerd_registries_mirrors : [];
  for (const entry of mirrors as Array<{ mirrors?: Array<{ host?: unknown }> }>) {
    for (const m of entry?.mirrors ?? []) {
      const h = typeof m?.host === 'string' ? /^(https?):\/\/([^/]+)/.exec(m.host) : null;
      if (h && h[2] === addr && !schemes.includes(h[1])) schemes.push(h[1]);
    }
  }
  if (!schemes.length) schemes.push('https', 'http');
  return schemes.map((s) => `${s}://${addr}/v2/`);
}
