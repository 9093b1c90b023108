import { FerryError } from '../../core/errors/index.js';
import type { Handlers } from '../dispatcher.js';

function missing(what: string, module: string): never {
  throw new FerryError('UNSUPPORTED', `${what} is not in this build of Ferry: it needs ${module}, which is not finished yet.`, {
    hint: 'Use a newer build of Ferry.',
  });
}

/**
 * Channels whose core module has not landed. Each answers UNSUPPORTED with the module it waits
 * for; as a module lands its handlers move to their own file and out of this list.
 */
export function pendingHandlers(): Partial<Handlers> {
  return {
    'plan.kubesprayVersions': () => missing('Listing Kubespray versions', 'the catalog (core/catalog)'),
    'plan.compute': () => missing('Planning', 'the catalog (core/catalog)'),
    'fetch.start': () => missing('Downloading', 'the fetch engine (core/fetch)'),
    'fetch.pause': () => missing('Pausing a download', 'the fetch engine (core/fetch)'),
    'fetch.resume': () => missing('Resuming a download', 'the fetch engine (core/fetch)'),
    'fetch.retryFailed': () => missing('Retrying downloads', 'the fetch engine (core/fetch)'),
    'drives.list': () => missing('Listing drives', 'drive discovery (core/drives)'),
    'export.start': () => missing('Exporting', 'the exporter (core/export)'),
    'import.start': () => missing('Importing', 'the importer (core/import)'),
    'serve.start': () => missing('Serving', 'the servers (core/serve)'),
    'serve.stop': () => missing('Serving', 'the servers (core/serve)'),
    'vars.generate': () => missing('Generating offline.yml', 'the variables generator (core/vars)'),
    'vars.save': () => missing('Generating offline.yml', 'the variables generator (core/vars)'),
  };
}
