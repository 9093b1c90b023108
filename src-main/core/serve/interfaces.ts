import os from 'node:os';

export interface ListenAddress {
  name: string;
  address: string;
  family: 'IPv4' | 'IPv6';
  internal: boolean;
}

/**
 * Listen addresses a technician can choose, for the app's services step and
 * `ferry serve --list-interfaces`: every interface address, IPv4 before IPv6, loopback last.
 */
export function listInterfaces(): ListenAddress[] {
  const out: ListenAddress[] = [];
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
