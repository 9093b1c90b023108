import { useEffect, useId, useMemo, useState, type ReactNode } from 'react';
import {
  ADDONS,
  ARCHES,
  DEPLOY_ARCHES,
  DEPLOY_OSES,
  NETWORK_PLUGINS,
  NODE_OSES,
  RPM_NODE_OSES,
  RPM_OSES_NEEDING_URL,
  RUNTIMES,
} from '../../../../src-main/ipc/choices.js';
import type {
  ClusterChoices,
  ErrorValueT,
  KubesprayChoice,
  PlanSummary,
  PlanSizesT,
  Res,
} from '../../../../src-main/ipc/contract.js';
import { call, errorOf } from '../../api.js';
import { ErrorBox, ProgressPanel, Section } from '../../components/common.js';
import { ChoiceField } from '../../components/step-controls.js';
import { bytes } from '../../format.js';
import { resultOf } from '../../jobs.js';
import {
  roomCount,
  roomOrder,
  roomSized,
  roomWeight,
  type RoomGroup,
} from '../../../../src-main/core/plan/room.js';
import { useApp, useJob } from '../../store.js';

type Versions = Res<'plan.kubesprayVersions'>;

const ADDON_LABELS: Record<string, string> = {
  helm: 'Helm',
  metrics_server: 'Metrics server',
  ingress_nginx: 'Ingress NGINX',
  cert_manager: 'cert-manager',
  local_path_provisioner: 'Local path provisioner',
  metallb: 'MetalLB',
  argocd: 'Argo CD',
  krew: 'krew',
};

/** 'URL SHA256' per line; lines that do not parse are kept out and reported. */
export function parseExtraFiles(text: string): {
  files: Array<{ url: string; sha256: string }>;
  bad: string[];
} {
  const files: Array<{ url: string; sha256: string }> = [];
  const bad: string[] = [];
  for (const l of lines(text)) {
    const m = /^(https?:\/\/\S+)\s+(?:sha256:)?([0-9a-fA-F]{64})$/.exec(l);
    if (m) files.push({ url: m[1], sha256: m[2].toLowerCase() });
    else bad.push(l);
  }
  return { files, bad };
}

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((l) => l.trim())
    .filter(Boolean);
}

/** The plan with its sizes: a group's bytes where every member of it was sized. */
export function withSizes(plan: PlanSummary, sz: PlanSizesT): PlanSummary {
  const by = new Map(sz.groups.map((g) => [`${g.kind}:${g.name}`, g.bytes]));
  const planned = new Set(plan.groups.map((g) => `${g.kind}:${g.name}`));
  return {
    ...plan,
    bytes: sz.bytes,
    knownBytes: sz.knownBytes,
    largestFile: sz.largestFile,
    groups: [
      ...plan.groups.map((g) => ({ ...g, bytes: by.get(`${g.kind}:${g.name}`) ?? null })),
      // Groups only sizing knows of: the nodes' OS packages, resolved for the sizes.
      ...sz.groups.filter((g) => !planned.has(`${g.kind}:${g.name}`)),
    ],
  };
}

type RpmFileField = 'rpmClientCert' | 'rpmClientKey' | 'rpmCa';
const RPM_FILES: Array<{ field: RpmFileField; label: string; why: string }> = [
  { field: 'rpmClientCert', label: 'Client certificate', why: 'Red Hat CDN entitlement or Satellite, PEM' },
  { field: 'rpmClientKey', label: 'Client key', why: 'the key of the client certificate, PEM' },
  { field: 'rpmCa', label: 'CA certificate', why: "of the repositories' hosts when not public, PEM" },
];

/** The choices without one optional field (a cleared pick), rather than the field set to undefined. */
function withoutField(c: ClusterChoices, field: RpmFileField): ClusterChoices {
  const next = { ...c };
  delete next[field];
  return next;
}

/**
 * The files the RPM OSes' repositories may need, as the CLI's --client-cert, --client-key and
 * --rpm-ca (one set for every RPM host) and --rpm-key OS=FILE (a private mirror's own key, per
 * OS). The native dialog runs in main; the choices hold only the token it hands back.
 */
export function RpmFileFields({
  choices,
  labels,
  onError,
}: {
  choices: ClusterChoices;
  labels: Record<string, string>;
  onError(e: ErrorValueT): void;
}) {
  const oses = RPM_NODE_OSES.filter((o) => (choices.os ?? []).includes(o));
  if (!oses.length) return null;
  const pick = async (
    purpose: RpmFileField | 'rpmKey',
    apply: (c: ClusterChoices, token: string) => ClusterChoices,
  ) => {
    try {
      const picked = await call('dialog.pickFile', { purpose });
      if (!picked) return;
      const app = useApp.getState();
      app.setLabel(picked.token, picked.label);
      useApp.setState({ choices: apply(app.choices, picked.token) });
    } catch (err) {
      onError(errorOf(err));
    }
  };
  const row = (
    key: string,
    label: string,
    why: string,
    token: string | undefined,
    purpose: RpmFileField | 'rpmKey',
    apply: (c: ClusterChoices, token: string) => ClusterChoices,
    clear: (c: ClusterChoices) => ClusterChoices,
  ) => (
    <div key={key} className="field">
      <span>
        {label} <span className="muted small">({why}, optional)</span>
      </span>
      <div className="row">
        <button type="button" aria-label={`Choose the ${label}`} onClick={() => void pick(purpose, apply)}>
          {token ? (labels[token] ?? 'Chosen') : 'Choose a file…'}
        </button>
        {token ? (
          <button
            type="button"
            aria-label={`Clear the ${label}`}
            onClick={() => useApp.setState({ choices: clear(useApp.getState().choices) })}
          >
            Clear
          </button>
        ) : null}
      </div>
    </div>
  );
  const halfPair = !choices.rpmClientCert !== !choices.rpmClientKey;
  return (
    <>
      {RPM_FILES.map((f) =>
        row(
          f.field,
          f.label,
          f.why,
          choices[f.field],
          f.field,
          (c, token) => ({ ...c, [f.field]: token }),
          (c) => withoutField(c, f.field),
        ),
      )}
      {halfPair ? (
        <p className="warn-text" role="alert">
          A client certificate needs its key, and a key its certificate: choose both.
        </p>
      ) : null}
      {oses.map((o) =>
        row(
          `key:${o}`,
          `${o} repository key`,
          "a private mirror's own signing key, trusted in place of the distribution's",
          choices.rpmKeys?.[o],
          'rpmKey',
          (c, token) => ({ ...c, rpmKeys: { ...c.rpmKeys, [o]: token } }),
          (c) => {
            const keys = { ...c.rpmKeys };
            delete keys[o];
            return { ...c, rpmKeys: keys };
          },
        ),
      )}
    </>
  );
}

/** Recomputes the plan shortly after the choices stop changing. */
function useLivePlan(): void {
  const choices = useApp((s) => s.choices);
  const setPlan = useApp((s) => s.setPlan);
  useEffect(() => {
    const ks = choices.kubespray;
    if (ks.source === 'release' && !ks.version) return;
    let stale = false;
    setPlan({ status: 'loading' });
    const t = setTimeout(() => {
      call('plan.compute', choices).then(
        (value) => {
          if (stale) return;
          setPlan({ status: 'ready', value });
          // Then the sizes, over the network: the room chart and the drive step switch to bytes.
          call('plan.sizes', choices).then(
            (sz) => !stale && setPlan({ status: 'ready', value: withSizes(value, sz) }),
            () => undefined, // sizes stay unknown; the plan itself is fine
          );
        },
        (err) => !stale && setPlan({ status: 'error', error: errorOf(err) }),
      );
    }, 250);
    return () => {
      stale = true;
      clearTimeout(t);
    };
  }, [choices, setPlan]);
}

/** Bars per component: by size when every size is known, else by number of downloads. */
export function RoomChart({ groups, label }: { groups: RoomGroup[]; label: string }) {
  const sized = roomSized(groups);
  const weight = (g: RoomGroup) => roomWeight(g, sized);
  // Bars are scaled to the largest group so small differences stay visible.
  const top = groups.reduce((n, g) => Math.max(n, weight(g)), 0);
  const sorted = roomOrder(groups);
  return (
    <>
      {!sized ? (
        <p className="muted small">By number of downloads per component; sizes are known once downloaded.</p>
      ) : null}
      <ul className="room" aria-label={label}>
        {sorted.map((g) => (
          <li key={`${g.kind}:${g.name}`}>
            <span className="room-name">
              <span className={`kind-dot kind-${g.kind}`} aria-hidden="true" /> {g.name}
            </span>
            <span className="room-bar">
              <span
                className={`room-fill kind-${g.kind}`}
                style={{ width: `${top ? Math.max(2, (100 * weight(g)) / top) : 0}%` }}
              />
            </span>
            <span className="room-size">{sized ? bytes(g.bytes) : roomCount(g)}</span>
          </li>
        ))}
      </ul>
    </>
  );
}

/**
 * One checkbox per option, for a choice of several. With `atLeastOne` the last ticked box stays
 * ticked (a plan needs an architecture), the rule held here rather than in each handler.
 */
export function CheckSet<T extends string>({
  options,
  chosen,
  onChange,
  atLeastOne = false,
  name = (o) => o,
  ariaLabel,
}: {
  options: readonly T[];
  chosen: readonly T[];
  onChange(next: T[]): void;
  atLeastOne?: boolean;
  name?: (o: T) => string;
  ariaLabel?: (o: T) => string;
}) {
  return options.map((o) => (
    <label key={o} className="check">
      <input
        type="checkbox"
        aria-label={ariaLabel?.(o)}
        checked={chosen.includes(o)}
        onChange={() => {
          const next = chosen.includes(o) ? chosen.filter((x) => x !== o) : [...chosen, o];
          if (next.length || !atLeastOne) onChange(next);
        }}
      />
      {name(o)}
    </label>
  ));
}

/** A big number labelled by the word under it, so assistive tech reads "12 files". */
function BigNumber({ value, label }: { value: ReactNode; label: string }) {
  const id = useId();
  return (
    <div>
      <span className="big" aria-labelledby={id}>
        {value}
      </span>
      <span className="label" id={id}>
        {label}
      </span>
    </div>
  );
}

export function PlanView({ plan }: { plan: PlanSummary }) {
  return (
    <div className="plan" aria-label="Plan">
      <div className="big-numbers">
        <BigNumber value={plan.counts.files} label="files" />
        <BigNumber value={plan.counts.images} label="images" />
        <BigNumber
          value={plan.bytes !== null ? bytes(plan.bytes) : plan.arches.length}
          label={
            plan.bytes !== null ? 'to download' : plan.arches.length === 1 ? 'architecture' : 'architectures'
          }
        />
      </div>
      <p className="muted">
        Kubespray {plan.kubesprayVersion} · Kubernetes {plan.kubeVersion} · {plan.arches.join(', ')}
      </p>
      <h3>What takes the room</h3>
      <RoomChart groups={plan.groups} label="Downloads by component" />
      {plan.warnings.length ? (
        <ul className="warnings">
          {plan.warnings.map((w) => (
            <li key={w}>{w}</li>
          ))}
        </ul>
      ) : null}
    </div>
  );
}

export function ClusterStep() {
  const choices = useApp((s) => s.choices);
  const setChoices = useApp((s) => s.setChoices);
  const labels = useApp((s) => s.labels);
  const plan = useApp((s) => s.plan);
  const setStep = useApp((s) => s.setStep);
  const [versions, setVersions] = useState<Versions | null>(null);
  const [versionsError, setVersionsError] = useState<ErrorValueT | null>(null);
  const [fileError, setFileError] = useState<ErrorValueT | null>(null);
  const [folderLabel, setFolderLabel] = useState('');
  const [imagesText, setImagesText] = useState(choices.extraImages.join('\n'));
  const [filesText, setFilesText] = useState(
    choices.extraFiles.map((f) => `${f.url} ${f.sha256}`).join('\n'),
  );
  const [badFiles, setBadFiles] = useState<string[]>([]);
  useLivePlan();

  useEffect(() => {
    call('plan.kubesprayVersions', {}).then(
      (v) => {
        setVersions(v);
        const cur = useApp.getState().choices.kubespray;
        if (cur.source === 'release' && !cur.version && v[0]) {
          useApp.getState().setChoices({ kubespray: { source: 'release', version: v[0].version } });
        }
      },
      (err) => setVersionsError(errorOf(err)),
    );
  }, []);

  // The key is the choice's content, so a choice re-set to the same value does not start a job.
  const ksKey = JSON.stringify(choices.kubespray);
  const ks = useMemo(() => JSON.parse(ksKey) as KubesprayChoice, [ksKey]);
  // Getting the chosen Kubespray ready is a job (a release's data may be downloaded first); the
  // Kubernetes versions come from that Kubespray's own checksum tables.
  const track = useApp((s) => s.track);
  const prepJob = useJob('plan');
  const prepared = resultOf('plan', prepJob) ?? null;
  const kubeVersions = prepared?.kubeVersions ?? [];
  useEffect(() => {
    if (ks.source === 'release' && !ks.version) return;
    let stale = false;
    call('plan.prepare', { kubespray: ks }).then(
      (r) => !stale && track('plan', r.jobId),
      (err) => !stale && setVersionsError(errorOf(err)),
    );
    return () => {
      stale = true;
    };
  }, [ks, track]);
  useEffect(() => {
    if (!prepared) return;
    setVersionsError(null);
    const cur = useApp.getState().choices.kubeVersion;
    if (!cur || !prepared.kubeVersions.includes(cur))
      useApp.getState().setChoices({ kubeVersion: prepared.kubeVersions[0] });
  }, [prepared]);

  const pickFolder = async (purpose: 'kubespray' | 'inventory') => {
    try {
      const picked = await call('dialog.pickFolder', { purpose });
      if (!picked) return;
      setFolderLabel(picked.label);
      setChoices({
        kubespray:
          purpose === 'kubespray'
            ? { source: 'folder', token: picked.token }
            : {
                source: 'inventory',
                token: picked.token,
                version: ks.source === 'release' ? ks.version : '',
              },
      });
    } catch (err) {
      setVersionsError(errorOf(err));
    }
  };

  return (
    <div className="two-col">
      <Section title="Your cluster">
        <form className="form" onSubmit={(e) => e.preventDefault()} aria-label="Cluster choices">
          <fieldset>
            <legend>Kubespray</legend>
            <label className="field">
              <span>Release (newest first)</span>
              <select
                aria-label="Kubespray version"
                value={ks.source === 'folder' ? '' : ks.version}
                onChange={(e) => {
                  // An inventory keeps its folder and takes the release it is for.
                  setChoices({
                    kubespray:
                      ks.source === 'inventory'
                        ? { source: 'inventory', token: ks.token, version: e.target.value }
                        : { source: 'release', version: e.target.value },
                  });
                }}
              >
                {ks.source === 'folder' ? <option value="">(using a folder)</option> : null}
                {ks.source === 'inventory' && !ks.version ? (
                  <option value="">Choose the release this inventory is for</option>
                ) : null}
                {(versions ?? []).map((v) => (
                  <option key={v.version} value={v.version}>
                    {v.version}
                    {v.newest ? ' (newest)' : ''}
                    {v.cached ? '' : ' · downloads its data'}
                  </option>
                ))}
              </select>
            </label>
            <div className="row">
              <button type="button" onClick={() => void pickFolder('kubespray')}>
                Use a local Kubespray folder…
              </button>
              <button type="button" onClick={() => void pickFolder('inventory')}>
                Use an existing inventory…
              </button>
            </div>
            {ks.source !== 'release' ? (
              <p className="muted">
                Using {ks.source === 'folder' ? 'Kubespray folder' : 'inventory'} <code>{folderLabel}</code>
              </p>
            ) : null}
            {prepJob?.state === 'running' ? (
              <ProgressPanel progress={prepJob.progress} label="Getting Kubespray ready" state="running" />
            ) : null}
            {prepJob?.state === 'failed' && prepJob.error ? (
              <ErrorBox error={prepJob.error} title="This Kubespray cannot be read" />
            ) : null}
            {versionsError ? <ErrorBox error={versionsError} /> : null}
          </fieldset>
          <label className="field">
            <span>Kubernetes version</span>
            <select
              aria-label="Kubernetes version"
              value={choices.kubeVersion ?? ''}
              onChange={(e) => setChoices({ kubeVersion: e.target.value || undefined })}
            >
              <option value="">Kubespray's default</option>
              {kubeVersions.map((v) => (
                <option key={v} value={v}>
                  {v}
                </option>
              ))}
            </select>
          </label>
          <fieldset>
            <legend>Architectures</legend>
            <div className="row">
              <CheckSet
                options={ARCHES}
                chosen={choices.arches}
                atLeastOne
                onChange={(arches) => setChoices({ arches })}
              />
            </div>
          </fieldset>
          <fieldset>
            <legend>Node OS packages</legend>
            <div className="row wrap">
              <CheckSet options={NODE_OSES} chosen={choices.os ?? []} onChange={(os) => setChoices({ os })} />
            </div>
            {RPM_OSES_NEEDING_URL.filter((o) => (choices.os ?? []).includes(o)).map((o) => (
              <label key={o} className="field">
                <span>{o} repository base URL (a Satellite, a reposync or an ISO over HTTP)</span>
                <input
                  type="url"
                  aria-label={`${o} repository base URL`}
                  placeholder="https://satellite.example/…/rhel9 (holding BaseOS/$basearch/os)"
                  value={choices.rpmRepos?.[o] ?? ''}
                  onChange={(e) => setChoices({ rpmRepos: { ...choices.rpmRepos, [o]: e.target.value } })}
                />
              </label>
            ))}
            <RpmFileFields choices={choices} labels={labels} onError={setFileError} />
            {fileError ? <ErrorBox error={fileError} title="That file cannot be chosen" /> : null}
          </fieldset>
          <fieldset>
            <legend>Deploy host (Ansible&apos;s Python)</legend>
            <div className="row wrap">
              <label className="field">
                <span>Deploy host OS</span>
                <select
                  aria-label="Deploy host OS"
                  value={choices.deployHost?.os ?? ''}
                  onChange={(e) => {
                    const os = e.target.value as (typeof DEPLOY_OSES)[number] | '';
                    setChoices({
                      deployHost: os ? { os, arches: choices.deployHost?.arches ?? ['x86_64'] } : undefined,
                    });
                  }}
                >
                  <option value="">Not carried (the deploy host has Ansible)</option>
                  {DEPLOY_OSES.map((o) => (
                    <option key={o}>{o}</option>
                  ))}
                </select>
              </label>
              {choices.deployHost ? (
                <CheckSet
                  options={DEPLOY_ARCHES}
                  chosen={choices.deployHost.arches}
                  atLeastOne
                  ariaLabel={(a) => `Deploy host ${a}`}
                  onChange={(arches) => setChoices({ deployHost: { ...choices.deployHost!, arches } })}
                />
              ) : null}
            </div>
          </fieldset>
          <div className="row wrap">
            <ChoiceField
              label="Container runtime"
              value={choices.runtime}
              options={RUNTIMES}
              onChange={(runtime) => setChoices({ runtime })}
            />
            <ChoiceField
              label="Network plugin"
              value={choices.network}
              options={NETWORK_PLUGINS}
              onChange={(network) => setChoices({ network })}
            />
          </div>
          <fieldset>
            <legend>Add-ons</legend>
            <div className="row wrap">
              <CheckSet
                options={ADDONS}
                chosen={choices.addons}
                name={(a) => ADDON_LABELS[a] ?? a}
                onChange={(addons) => setChoices({ addons })}
              />
            </div>
          </fieldset>
          <label className="field">
            <span>Extra images (one per line)</span>
            <textarea
              aria-label="Extra images"
              rows={3}
              value={imagesText}
              onChange={(e) => setImagesText(e.target.value)}
              onBlur={() => setChoices({ extraImages: lines(imagesText) })}
              placeholder="registry.example.com/team/tool:1.2"
            />
          </label>
          <label className="field">
            <span>Extra files (one per line: URL and its SHA-256)</span>
            <textarea
              aria-label="Extra files"
              rows={3}
              value={filesText}
              onChange={(e) => setFilesText(e.target.value)}
              onBlur={() => {
                const { files, bad } = parseExtraFiles(filesText);
                setBadFiles(bad);
                setChoices({ extraFiles: files });
              }}
              placeholder="https://example.com/tool.tar.gz 9f86d081884c7d65…"
            />
          </label>
          {badFiles.length ? (
            <p className="warn-text" role="alert">
              Left out (needs a URL and a 64-character SHA-256): {badFiles.join(', ')}
            </p>
          ) : null}
        </form>
      </Section>
      <Section
        title="Plan"
        actions={
          <button
            type="button"
            className="primary"
            disabled={plan.status !== 'ready'}
            onClick={() => setStep('connected', 1)}
          >
            Next: download
          </button>
        }
      >
        {plan.status === 'ready' ? <PlanView plan={plan.value} /> : null}
        {plan.status === 'loading' ? (
          <p className="muted" aria-live="polite">
            Working out what Kubespray will download…
          </p>
        ) : null}
        {plan.status === 'idle' ? <p className="muted">Choose a Kubespray version to see the plan.</p> : null}
        {plan.status === 'error' ? <ErrorBox error={plan.error} title="The plan could not be made" /> : null}
      </Section>
    </div>
  );
}
