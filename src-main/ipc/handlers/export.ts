import path from 'node:path';
import { openBundle } from '../../core/bundle/reader.js';
import { FerryError } from '../../core/base/errors/index.js';
import { exportBundle } from '../../core/media/export/index.js';
import { checkSignature } from '../../core/bundle/keys/keystore.js';
import type { ExportSummary } from '../contract.js';
import type { Handlers } from '../dispatcher.js';
import type { AppServices } from '../services.js';
import { workingBundleDir } from './planning.js';
/** export.start: the working bundle to a drive, a folder or archive parts. */
export function exportHandlers(s: AppServices): Pick<Handlers, 'export.start'> {
  return {
    'export.start': async ({ target }) => {
      const src = workingBundleDir(s.env);
      await openBundle(src).catch((err) => {
        throw new FerryError('NOT_FOUND', 'There is no finished bundle to export yet.', {
          hint: 'Finish the download step first.',
          cause: err,
        });
      });
      let to: string;
      if (target.kind === 'drive') {
        const drive = (await s.drives.list()).find((d) => d.id === target.driveId);
        if (!drive)
          throw new FerryError('MEDIA_REMOVED', 'That drive is no longer connected.', {
            hint: 'Insert it again, then refresh the list.',
          });
        to = path.join(drive.mountPoint, 'ferry');
      } else if (target.kind === 'folder') {
        to = s.picks.resolve(target.token, 'export');
      } else {
        to = s.picks.resolve(target.token, 'export');
      }
      const archive = target.kind === 'archive';
      const job = s.jobs.start('export', async (ctx): Promise<ExportSummary> => {
        const r = await exportBundle(src, { to, archive, job: ctx, drives: s.drives, keyStore: s.keyStore });
        // The fingerprint shown is the one the offline side will see. A folder export is read
        // back as written; an archive keeps the source's signature or is re-signed by this machine.
        const out = await openBundle(archive ? src : r.to);
        const sig =
          archive && r.signature === 're-signed'
            ? { fingerprint: (await s.keyStore.ownKey())?.fingerprint }
            : await checkSignature(out.manifestBytes, out.signatureBytes, await s.keyStore.list());
        return {
          fingerprint: 'fingerprint' in sig && sig.fingerprint ? sig.fingerprint : null,
          signature: r.signature,
          bundleId: r.bundleId,
          files: r.files,
          bytesWritten: r.bytesWritten,
          bytesReused: r.bytesReused,
          seconds: r.seconds,
          label: r.to,
        };
      });
      return { jobId: job.id };
    },
  };
}
