import { useCallback, useEffect, useState } from 'react';
import type { BundleSummary, ErrorValueT, Res } from '../../../../src-main/ipc/contract.js';
import { call, errorOf } from '../../api.js';
import { ErrorBox, Section, StatusPill } from '../../components/common.js';
import { StepNav } from '../../components/step-controls.js';
import { bytes, when } from '../../format.js';
import { useApp } from '../../store.js';

export function SignatureBadge({ sig }: { sig: BundleSummary['signature'] }) {
  switch (sig.status) {
    case 'trusted':
      return <StatusPill tone="good">Signed · trusted ({sig.signer})</StatusPill>;
    case 'unknown-key':
      return <StatusPill tone="warn">Signed · unknown key</StatusPill>;
    case 'unsigned':
      return <StatusPill tone="warn">Unsigned</StatusPill>;
    default:
      return <StatusPill tone="bad">Bad signature</StatusPill>;
  }
}

export function BundleCard({ b, chosen, onChoose }: { b: BundleSummary; chosen: boolean; onChoose(): void }) {
  return (
    <button
      type="button"
      className={`choice bundle-card ${chosen ? 'chosen' : ''}`}
      aria-pressed={chosen}
      onClick={onChoose}
      aria-label={`Bundle ${b.id}`}
    >
      <span className="bundle-title">
        Kubespray {b.kubesprayVersion ?? '?'} · Kubernetes {b.kubeVersion ?? '?'}
      </span>
      <span className="muted">
        {b.arches.join(', ') || 'no architecture listed'} · {bytes(b.bytes)} · {b.counts.files} files ·{' '}
        {b.counts.images} images
      </span>
      <span className="muted">Created {when(b.createdAt)}</span>
      <span className="muted">
        {b.format === 'archive'
          ? `Archive export · ${b.parts ?? '?'} part${b.parts === 1 ? '' : 's'}, imported as it is checked`
          : 'Bundle folder'}
      </span>
      <span>
        <SignatureBadge sig={b.signature} />
      </span>
      {b.signature.fingerprint ? (
        <span>
          <span className="muted small">Key fingerprint </span>
          <span className="fingerprint small">{b.signature.fingerprint}</span>
        </span>
      ) : null}
      <span className="muted small">
        {b.tools?.length
          ? `Carries Ferry ${b.tools[0].version} for ${b.tools.map((t) => t.platform).join(', ')}`
          : 'Does not carry Ferry itself'}
      </span>
      <span className="muted small">{b.label}</span>
    </button>
  );
}

/**
 * The deploy host may not have this app: say whether the bundle carries Ferry's standalone
 * executables (the tool kind), for which platforms, and the commands that run them from the drive.
 */
export function CarriedFerry({ b }: { b: BundleSummary }) {
  const tools = b.tools ?? [];
  if (!tools.length)
    return (
      <div className="notice" role="note" aria-label="Ferry on the deploy host">
        <strong>This bundle does not carry Ferry itself</strong>
        <p>
          A deploy host without this app needs Ferry installed another way. To carry it, fetch the bundle on
          the connected side after building the executables (<code>npm run build:cli</code>).
        </p>
      </div>
    );
  const first = tools.find((t) => t.platform === 'linux-x64') ?? tools[0];
  const commands =
    b.format === 'archive'
      ? [
          `# unpack Ferry from the archive parts (in the folder holding ferry-archive.json)`,
          `cat bundle.tar.* | tar -x ${tools.map((t) => t.path).join(' ')}`,
          `./${first.path} import .`,
        ]
      : [
          `# in the bundle folder on the drive`,
          `./${first.path} verify .`,
          `./${first.path} serve --bundle . --listen <this host's address>   # leave it running`,
          `./${first.path} vars --bundle . --hostname <this host's address> -o offline.yml`,
          `./${first.path} deploy --bundle . --vars offline.yml --node cp1=<address> …`,
        ];
  return (
    <div className="notice" role="note" aria-label="Ferry on the deploy host">
      <strong>
        This bundle carries Ferry {first.version} for {tools.map((t) => t.platform).join(', ')}
      </strong>
      <p>
        A deploy host without this app runs Ferry straight from the bundle: one file per platform
        {tools.length > 1 ? ` (${tools.map((t) => t.path).join(', ')})` : ` (${first.path})`}, nothing to
        install, no Node.js. Use the one for the host’s architecture (<code>uname -m</code>: x86_64 is
        linux-x64, aarch64 is linux-arm64). If the drive is mounted noexec, copy the file to a local disk and{' '}
        <code>chmod +x</code> it first.
      </p>
      <pre className="small" aria-label="Run Ferry from the bundle">
        {commands.join('\n')}
      </pre>
    </div>
  );
}

export function MediaStep() {
  const bundle = useApp((s) => s.bundle);
  const setBundle = useApp((s) => s.setBundle);
  const setStep = useApp((s) => s.setStep);
  const [found, setFound] = useState<Res<'media.scan'> | null>(null);
  const [picked, setPicked] = useState<BundleSummary[]>([]);
  const [scanError, setScanError] = useState<ErrorValueT | null>(null);
  const [error, setError] = useState<ErrorValueT | null>(null);
  const [scanning, setScanning] = useState(false);

  const scan = useCallback(() => {
    setScanning(true);
    call('media.scan', {})
      .then(
        (r) => {
          setFound(r);
          setScanError(null);
        },
        (e) => setScanError(errorOf(e)),
      )
      .finally(() => setScanning(false));
  }, []);
  useEffect(scan, [scan]);

  const chooseFolder = async () => {
    setError(null);
    try {
      const p = await call('dialog.pickFolder', { purpose: 'bundle' });
      if (!p) return;
      const summary = await call('bundle.open', { token: p.token });
      setPicked((list) => [...list.filter((b) => b.token !== summary.token), summary]);
      setBundle(summary);
    } catch (err) {
      setError(errorOf(err));
    }
  };
  const all = [
    ...(found?.bundles ?? []),
    ...picked.filter((p) => !found?.bundles.some((b) => b.token === p.token)),
  ];

  return (
    <div className="stack">
      <Section
        title="Find the bundle"
        actions={
          <div className="row">
            <button type="button" onClick={scan} disabled={scanning}>
              {scanning ? 'Looking…' : 'Look at drives again'}
            </button>
            <button type="button" onClick={() => void chooseFolder()}>
              Choose a bundle folder…
            </button>
          </div>
        }
      >
        {all.length ? (
          <ul className="choice-list" aria-label="Bundles found">
            {all.map((b) => (
              <li key={b.token}>
                <BundleCard b={b} chosen={bundle?.token === b.token} onChoose={() => setBundle(b)} />
              </li>
            ))}
          </ul>
        ) : (
          <p className="muted">
            {scanning
              ? 'Looking at the inserted drives…'
              : 'No bundle found on the inserted drives. Insert the drive, or choose the folder (a bundle folder, or the folder holding ferry-archive.json and its parts).'}
          </p>
        )}
        {bundle ? <CarriedFerry b={bundle} /> : null}
        {bundle?.signature.status === 'unknown-key' ? (
          <div className="notice notice-warn" role="note">
            <strong>Is this the key of your connected side?</strong>
            <p>
              Compare <code>{bundle.signature.fingerprint}</code> with the fingerprint the connected side
              showed after exporting. If they match, trust its public key in Settings → Keys, or accept it for
              this bundle on the next step.
            </p>
          </div>
        ) : null}
        {bundle?.signature.status === 'bad-signature' ? (
          <div className="notice notice-bad" role="alert">
            <strong>Do not use this bundle</strong>
            <p>
              Its signature does not match its contents ({bundle.signature.reason}). Get a fresh copy from the
              connected side.
            </p>
          </div>
        ) : null}
        {found?.problems.map((p) => (
          <ErrorBox key={p.label} error={p.error} title={`Cannot read ${p.label}`} />
        ))}
        {scanError ? <ErrorBox error={scanError} title="Drives cannot be searched" /> : null}
        {error ? <ErrorBox error={error} title="That folder is not a usable bundle" /> : null}
      </Section>
      <StepNav
        next={{ label: 'Next: check integrity', disabled: !bundle, onClick: () => setStep('offline', 1) }}
      />
    </div>
  );
}
