import { useEffect, useState } from 'react';
import type { BundleSummary, ErrorValueT, Picked, Res } from '../../../../src-main/ipc/contract.js';
import { call, errorOf } from '../../api.js';
import { CopyBlock, ErrorBox, ProgressPanel, Section, Stat, StatusPill } from '../../components/common.js';
import { PortField, StepNav } from '../../components/step-controls.js';
import { bytes, when } from '../../format.js';
import { resultOf, type JobView } from '../../jobs.js';
import { useApp, useJob } from '../../store.js';
import { importedWhole } from './IntegrityStep.js';

type Status = Res<'serve.status'>;
type Vars = Res<'vars.generate'>;

export type ServeFromKind = 'store' | 'media';

/**
 * Where the services may read from for this bundle: the store once it is imported whole, the
 * media folder once it verified (it is checked again as the services start). An archive cannot
 * be served from the media. The default is the store after an import, so the drive can go back.
 */
export function serveChoices(
  b: BundleSummary,
  verifyJob: JobView | undefined,
  importJob: JobView | undefined,
  chosen: ServeFromKind | null,
): { store: boolean; media: boolean; from: ServeFromKind | null } {
  const store = importedWhole(importJob, b);
  const v = resultOf('verify', verifyJob);
  const media = b.format !== 'archive' && !!v?.ok && v.bundleId === b.id;
  const ok = (k: ServeFromKind | null) => (k === 'store' ? store : k === 'media' ? media : false);
  const from = ok(chosen) ? chosen : store ? 'store' : media ? 'media' : null;
  return { store, media, from };
}

export function ServeStatusView({ status }: { status: Status }) {
  return (
    <div aria-label="Service status">
      <p>
        {status.running ? (
          <StatusPill tone="good">Serving</StatusPill>
        ) : (
          <StatusPill tone="muted">Stopped</StatusPill>
        )}{' '}
        {status.running && status.from ? (
          <span className="muted">
            {status.from === 'store'
              ? `from this machine's store (${status.bundles ?? 1} bundle${status.bundles === 1 ? '' : 's'})`
              : 'from the bundle folder on the media'}
          </span>
        ) : null}
      </p>
      {status.running ? (
        <>
          <dl className="stats">
            <Stat label="Files">
              <code>{status.filesUrl}</code>
            </Stat>
            <Stat label="Registry">
              <code>{status.registryUrl}</code>
            </Stat>
            <Stat label="Requests">{status.requests}</Stat>
            <Stat label="Served">{bytes(status.bytesServed)}</Stat>
          </dl>
          <h3>Recent clients</h3>
          {status.recentClients.length ? (
            <ul className="item-list compact" aria-label="Recent clients">
              {status.recentClients.map((c) => (
                <li key={c.address}>
                  <span>{c.address}</span>
                  <span className="muted">
                    {c.requests} requests · last {when(c.lastSeen)}
                  </span>
                </li>
              ))}
            </ul>
          ) : (
            <p className="muted">No client has connected yet.</p>
          )}
        </>
      ) : null}
    </div>
  );
}

export function ServicesStep() {
  const bundle = useApp((s) => s.bundle);
  const serveJob = useJob('serve');
  const importJob = useJob('import');
  const verifyJob = useJob('verify');
  const [chosenFrom, setChosenFrom] = useState<ServeFromKind | null>(null);
  const track = useApp((s) => s.track);
  const trust = useApp((s) => s.trust);
  const style = useApp((s) => s.namingStyle);
  const setStyle = useApp((s) => s.setNamingStyle);
  const [kubespray, setKubespray] = useState<Picked | null>(null);
  const [varsError, setVarsError] = useState<ErrorValueT | null>(null);
  const setStep = useApp((s) => s.setStep);
  const [ifaces, setIfaces] = useState<Res<'serve.interfaces'>>([]);
  const [address, setAddress] = useState('');
  const [filesPort, setFilesPort] = useState(8080);
  const [registryPort, setRegistryPort] = useState(5000);
  const [tls, setTls] = useState(false);
  const [status, setStatus] = useState<Status | null>(null);
  const [vars, setVars] = useState<Vars | null>(null);
  const [error, setError] = useState<ErrorValueT | null>(null);
  const running = serveJob?.state === 'running';

  useEffect(() => {
    call('serve.interfaces', {}).then(
      (list) => {
        setIfaces(list);
        setAddress(
          (a) =>
            a ||
            list.find((i) => !i.internal && i.family === 'IPv4')?.address ||
            list[0]?.address ||
            '127.0.0.1',
        );
      },
      (e) => setError(errorOf(e)),
    );
  }, []);

  // Live status while serving: a poll once a second is plenty for a person watching.
  useEffect(() => {
    let stop = false;
    const tick = () =>
      call('serve.status', {}).then(
        (s) => !stop && setStatus(s),
        () => undefined,
      );
    void tick();
    if (!running) return;
    const t = setInterval(tick, 1000);
    return () => {
      stop = true;
      clearInterval(t);
    };
  }, [running]);

  // The variables name the live addresses, so they are asked for once the servers listen.
  const serving = !!status?.running && !!status.jobId;
  useEffect(() => {
    if (!serving || !status?.jobId) {
      setVars(null);
      return;
    }
    setVarsError(null);
    call('vars.generate', {
      jobId: status.jobId,
      style,
      ...(kubespray ? { kubespray: kubespray.token } : {}),
    }).then(setVars, (e) => setVarsError(errorOf(e)));
  }, [serving, status?.jobId, style, kubespray]);
  const needsKubespray = varsError?.code === 'NOT_FOUND' && varsError.artifact?.startsWith('kubespray');

  if (!bundle) {
    return (
      <Section title="Services">
        <p className="muted">Choose and check a bundle first.</p>
      </Section>
    );
  }

  const choice = serveChoices(bundle, verifyJob, importJob, chosenFrom);
  const importResult = resultOf('import', importJob);
  const importedHere = importResult?.bundleId === bundle.id;

  const act = async (fn: () => Promise<unknown>) => {
    setError(null);
    try {
      await fn();
    } catch (err) {
      setError(errorOf(err));
    }
  };
  const saveVars = async (which: 'offlineYml' | 'containerdConfig') =>
    serveJob
      ? (
          await call('vars.save', {
            jobId: serveJob.id,
            style,
            ...(kubespray ? { kubespray: kubespray.token } : {}),
            which,
          })
        ).saved
      : null;

  return (
    <div className="stack">
      <Section
        title="Copy into this machine's store"
        actions={
          // An archive's import is its check, on the integrity step; here it only shows the outcome.
          bundle.format === 'archive' ? undefined : (
            <button
              type="button"
              disabled={importJob?.state === 'running'}
              onClick={() =>
                void act(async () =>
                  track(
                    'import',
                    (await call('import.start', { bundle: { token: bundle.token }, ...trust })).jobId,
                  ),
                )
              }
            >
              Import
            </button>
          )
        }
      >
        <p className="muted">
          {bundle.format === 'archive'
            ? 'The archive was imported while it was checked.'
            : 'Import keeps the bundle on this machine so the drive can go back; the services then serve from the store. Serving straight from the drive works too, without copying.'}
        </p>
        {importedHere ? (
          <p>
            <StatusPill tone={importResult.status === 'complete' ? 'good' : 'warn'}>
              {importResult.status === 'complete' ? 'Imported into the store' : 'Imported with problems'}
            </StatusPill>
          </p>
        ) : null}
        {importJob && bundle.format !== 'archive' ? (
          <ProgressPanel progress={importJob.progress} label="Import progress" state={importJob.state} />
        ) : null}
        {importJob?.state === 'failed' && importJob.error && bundle.format !== 'archive' ? (
          <ErrorBox error={importJob.error} />
        ) : null}
      </Section>
      <Section
        title="Serve files and images"
        actions={
          running && serveJob ? (
            <button
              type="button"
              className="danger"
              onClick={() => void act(() => call('serve.stop', { jobId: serveJob.id }))}
            >
              Stop
            </button>
          ) : (
            <button
              type="button"
              className="primary"
              disabled={!choice.from}
              onClick={() =>
                void act(async () =>
                  track(
                    'serve',
                    (
                      await call('serve.start', {
                        from:
                          choice.from === 'store'
                            ? { kind: 'store', bundleId: bundle.id }
                            : { kind: 'media', bundle: { token: bundle.token } },
                        address,
                        filesPort,
                        registryPort,
                        tls,
                        ...trust,
                      })
                    ).jobId,
                  ),
                )
              }
            >
              Start
            </button>
          )
        }
      >
        <fieldset className="serve-from" disabled={running}>
          <legend>Serve from</legend>
          <label className="check">
            <input
              type="radio"
              name="serve-from"
              value="store"
              checked={choice.from === 'store'}
              disabled={!choice.store}
              onChange={() => setChosenFrom('store')}
            />
            This machine&apos;s store{' '}
            <span className="muted">
              {choice.store ? '(imported and verified; the drive can go back)' : '(import the bundle first)'}
            </span>
          </label>
          <label className="check">
            <input
              type="radio"
              name="serve-from"
              value="media"
              checked={choice.from === 'media'}
              disabled={!choice.media}
              onChange={() => setChosenFrom('media')}
            />
            The bundle folder on the media{' '}
            <span className="muted">
              {bundle.format === 'archive'
                ? '(an archive is served only after its import)'
                : choice.media
                  ? '(nothing copied; checked again as the services start)'
                  : '(check its integrity first)'}
            </span>
          </label>
        </fieldset>
        <form className="service-form" onSubmit={(e) => e.preventDefault()} aria-label="Service settings">
          <label className="field">
            <span>Listen address</span>
            <select
              aria-label="Listen address"
              value={address}
              disabled={running}
              onChange={(e) => setAddress(e.target.value)}
            >
              {ifaces.map((i) => (
                <option key={`${i.name}-${i.address}`} value={i.address}>
                  {i.address} ({i.name}
                  {i.internal ? ', this machine only' : ''})
                </option>
              ))}
            </select>
          </label>
          <PortField label="Files port" value={filesPort} disabled={running} onChange={setFilesPort} />
          <PortField
            label="Registry port"
            value={registryPort}
            disabled={running}
            onChange={setRegistryPort}
          />
          <label className="check">
            <input
              type="checkbox"
              checked={tls}
              disabled={running}
              onChange={(e) => setTls(e.target.checked)}
            />
            TLS (a certificate made for this address)
          </label>
        </form>
        {running && !serving ? (
          <ProgressPanel progress={serveJob!.progress} label="Checking before serving" state="running" />
        ) : null}
        {status ? <ServeStatusView status={status} /> : null}
        {serveJob?.state === 'failed' && serveJob.error ? (
          <ErrorBox error={serveJob.error} title="The services stopped" />
        ) : null}
        {error ? <ErrorBox error={error} /> : null}
        {varsError ? <ErrorBox error={varsError} title="The Kubespray variables cannot be made yet" /> : null}
        {needsKubespray ? (
          <button
            type="button"
            onClick={() =>
              void act(async () => {
                const p = await call('dialog.pickFolder', { purpose: 'kubespray' });
                if (p) setKubespray(p);
              })
            }
          >
            Choose the Kubespray folder…
          </button>
        ) : null}
      </Section>
      {vars ? (
        <Section
          title="Point Kubespray at this machine"
          actions={
            <label className="field narrow">
              <span>Image names</span>
              <select
                aria-label="Image naming style"
                value={style}
                onChange={(e) => setStyle(e.target.value as 'kubespray' | 'mirror')}
              >
                <option value="kubespray">Kubespray style (registry_host/…)</option>
                <option value="mirror">Mirror style (containerd mirrors)</option>
              </select>
            </label>
          }
        >
          <CopyBlock title="offline.yml" text={vars.offlineYml} onSave={() => saveVars('offlineYml')} />
          <CopyBlock
            title="containerd configuration"
            text={vars.containerdConfig}
            onSave={() => saveVars('containerdConfig')}
          />
          {vars.osPrestep ? (
            <>
              <p className="hint">
                The nodes install their OS packages from Ferry&apos;s signed repositories. Kubespray never
                changes a node&apos;s package sources, so run this pre-step first: it turns off the
                distribution&apos;s sources (apt) or .repo files (dnf), installs Ferry&apos;s keys and
                repository, and refreshes the package index (idempotent;{' '}
                <code>-e ferry_apt_state=absent -e ferry_rpm_state=absent</code> undoes it).
              </p>
              <CopyBlock title="OS pre-step (run before cluster.yml)" text={vars.osPrestep.command} />
              <CopyBlock title="ferry-apt-prestep.yml" text={vars.osPrestep.playbook} />
              {vars.osPrestep.shell.map((sh) => (
                <CopyBlock key={sh.os} title={`By hand on a ${sh.os} node`} text={sh.text} />
              ))}
            </>
          ) : null}
          <CopyBlock title="Next command" text={vars.nextCommand} />
        </Section>
      ) : null}
      <StepNav
        onBack={() => setStep('offline', 1)}
        next={{ label: 'Next: deploy', disabled: !vars, onClick: () => setStep('offline', 3) }}
      />
    </div>
  );
}
