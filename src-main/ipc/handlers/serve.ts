import { listInterfaces } from '../../core/serve/interfaces.js';
import type { Handlers } from '../dispatcher.js';
import type { AppServices } from '../services.js';

export function serveHandlers(_s: AppServices): Pick<Handlers, 'serve.interfaces'> {
  return {
    'serve.interfaces': () => listInterfaces(),
  };
}
