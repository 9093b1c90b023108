import type { BundleSummary } from '../../../../src-main/ipc/contract.js';
import { Section } from '../../components/common.js';
import { useApp } from '../../store.js';
import { resultOf } from '../../jobs.js';
import { SignatureBadge } from './MediaStep.js';
import { CheckPanel, useCheckJob } from './integrity/CheckPanel.js';
import { PartsList } from './integrity/IntegrityMap.js';
import { ImportSummaryCard, VerifySummaryCard } from './integrity/SummaryCards.js';
import { importedWhole, partsFrom } from './integrity/tiles.js';

// The offline side's second step. Its pieces live in integrity/: tiles.ts (the map as a pure
// function of the job), IntegrityMap.tsx, SummaryCards.tsx, CheckPanel.tsx (the job and the
// frame both checks share). The names other modules import stay exported from here.
export {
  groupTiles,
  importedWhole,
  partsFrom,
  tilesFrom,
  type PartState,
  type Tile,
  type TileState,
} from './integrity/tiles.js';
export { IntegrityMap, Legend, PartsList, TileDetails } from './integrity/IntegrityMap.js';
export { ImportSummaryCard, VerifySummaryCard } from './integrity/SummaryCards.js';

export function IntegrityStep() {
  const bundle = useApp((s) => s.bundle);
  return bundle?.format === 'archive' ? <ArchiveIntegrity bundle={bundle} /> : <FolderIntegrity />;
}

/**
 * An archive cannot be read in place, so its check is its import: the signature first, every
 * part hashed (a bad one named), then every file into the store, the map filling in as it goes.
 */
function ArchiveIntegrity({ bundle }: { bundle: BundleSummary }) {
  const check = useCheckJob('import', 'import.start');
  const summary = resultOf('import', check.job) ?? null;
  const parts = partsFrom(check.job);
  return (
    <CheckPanel
      check={check}
      bundle={bundle}
      title="Import and check every byte"
      startLabel="Import and check"
      againLabel="Import again"
      progressLabel="Import progress"
      stoppedTitle="Import stopped"
      bad={summary ? summary.status !== 'complete' : false}
      intro={
        <>
          <p>
            <SignatureBadge sig={bundle.signature} />{' '}
            <span className="muted">
              Archive in {bundle.parts ?? '?'} part{bundle.parts === 1 ? '' : 's'} · {bundle.label}
            </span>
          </p>
          <p className="muted">
            The signature is checked first, then every part, then every file as it is copied into this
            machine&apos;s store. A damaged or missing part is named so that only it needs copying again.
          </p>
        </>
      }
      extra={parts.length ? <PartsList parts={parts} /> : null}
      summary={summary ? <ImportSummaryCard summary={summary} label={bundle.label} /> : null}
      canContinue={importedWhole(check.job, bundle)}
    />
  );
}

function FolderIntegrity() {
  const bundle = useApp((s) => s.bundle);
  const setStep = useApp((s) => s.setStep);
  const check = useCheckJob('verify', 'verify.start');

  if (!bundle) {
    return (
      <Section title="Integrity">
        <p className="muted">Choose a bundle first.</p>
        <button type="button" onClick={() => setStep('offline', 0)}>
          Back to media
        </button>
      </Section>
    );
  }
  const summary = resultOf('verify', check.job) ?? null;
  return (
    <CheckPanel
      check={check}
      bundle={bundle}
      title="Check every byte"
      startLabel="Start check"
      againLabel="Check again"
      progressLabel="Verification progress"
      stoppedTitle="Verification stopped"
      bad={summary ? !summary.ok : false}
      intro={
        <p>
          <SignatureBadge sig={bundle.signature} /> <span className="muted">{bundle.label}</span>
        </p>
      }
      summary={summary ? <VerifySummaryCard summary={summary} label={bundle.label} /> : null}
      canContinue={!!summary?.ok}
    />
  );
}
