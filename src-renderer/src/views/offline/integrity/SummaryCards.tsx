import type { ImportSummary, VerifySummary } from '../../../../../src-main/ipc/contract.js';
import { bytes, when } from '../../../format.js';
import { SignatureBadge } from '../MediaStep.js';

/** The rows both summary cards open with: which bundle, where it was read, who signed it. */
function BundleRows({
  summary,
  where,
  label,
}: {
  summary: Pick<VerifySummary, 'bundleId' | 'signature'>;
  where: string;
  label: string;
}) {
  return (
    <>
      <dt>Bundle</dt>
      <dd>{summary.bundleId}</dd>
      <dt>{where}</dt>
      <dd>{label}</dd>
      <dt>Signature</dt>
      <dd>
        <SignatureBadge sig={summary.signature} />{' '}
        {summary.signature.fingerprint ? <code>{summary.signature.fingerprint}</code> : null}
      </dd>
    </>
  );
}

/** A card meant to be screenshotted and handed to a security officer. */
export function VerifySummaryCard({ summary, label }: { summary: VerifySummary; label: string }) {
  const c = summary.counts;
  const good = summary.ok;
  return (
    <section className={`summary ${good ? 'summary-good' : 'summary-bad'}`} aria-label="Verification summary">
      <h3>{good ? (summary.verified ? 'Bundle verified' : 'Bundle intact') : 'Bundle has problems'}</h3>
      <dl className="kv">
        <BundleRows summary={summary} where="Location" label={label} />
        <dt>Artifacts</dt>
        <dd>{c.artifacts}</dd>
        <dt>Files</dt>
        <dd>
          {c.ok} of {c.files} intact{c.missing ? ` · ${c.missing} missing` : ''}
          {c.wrongDigest + c.wrongSize ? ` · ${c.wrongDigest + c.wrongSize} damaged` : ''}
          {c.extra ? ` · ${c.extra} unexpected` : ''}
        </dd>
        <dt>Checked</dt>
        <dd>
          {bytes(summary.bytes)} in {summary.seconds.toFixed(1)} s (SHA-256), {when(new Date().toISOString())}
        </dd>
      </dl>
    </section>
  );
}

/** The same card for an archive, whose check is its import into the store. */
export function ImportSummaryCard({ summary, label }: { summary: ImportSummary; label: string }) {
  const count = (st: 'good' | 'damaged' | 'missing') =>
    summary.artifacts.filter((a) => a.state === st).length;
  const good = summary.status === 'complete';
  return (
    <section className={`summary ${good ? 'summary-good' : 'summary-bad'}`} aria-label="Import summary">
      <h3>{good ? 'Bundle imported and verified' : 'Bundle imported with problems'}</h3>
      <dl className="kv">
        <BundleRows summary={summary} where="Archive" label={label} />
        <dt>Artifacts</dt>
        <dd>
          {count('good')} of {summary.artifacts.length} intact
          {count('damaged') ? ` · ${count('damaged')} damaged` : ''}
          {count('missing') ? ` · ${count('missing')} missing` : ''}
        </dd>
        <dt>Store</dt>
        <dd>
          {summary.filesCopied} files copied ({bytes(summary.bytesCopied)})
          {summary.filesShared ? ` · ${summary.filesShared} already there` : ''}, in{' '}
          {summary.seconds.toFixed(1)} s (SHA-256), {when(new Date().toISOString())}
        </dd>
      </dl>
      {summary.hint ? <p className="hint">What to do: {summary.hint}</p> : null}
    </section>
  );
}
