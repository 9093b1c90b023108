import os from 'node:os';
import type { Handlers } from '../dispatcher.js';
import type { AppServices } from '../services.js';

/** Listen addresses a technician can choose: every interface address, loopback last. */
export function listInterfaces(): Array<{
  name: string;
  address: string;
  family: 'IPv4' | 'IPv6';
  internal: boolean;
}> {
  const out = [];
  for (const [name, addrs] of Object.entries(os.networkInterfaces())) {
    for (const a of addrs ?? []) {
      // Link-local IPv6 needs a zone id no client URL carries well; leave it out.
      if (a.family === 'IPv6' && a.address.toLowerCase().startsWith('fe80')) continue;
      out.push({ name, address: a.address, family: a.family, internal: a.internal });
    }
  }
  return out.sort(
    (x, y) =>
      Number(x.internal) - Number(y.internal) || (x.family === y.family ? 0 : x.family === 'IPv4' ? -1 : 1),
  );
}

export function serveHandlers(_s: AppServices): Pick<Handlers, 'serve.interfaces'> {
  return {
    'serve.interfaces': () => listInterfaces(),
  };
}
