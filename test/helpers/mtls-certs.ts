import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

/**
 * The certificates a mutual-TLS mirror test needs, made by openssl in `dir`: a CA (ca.pem,
 * ca.key), a server certificate for 127.0.0.1 (server.pem, server.key) and a client certificate
 * for clientAuth (client.pem, client.key), all EC P-256, valid two days. The stand-in for Red
 * Hat's CDN or a Satellite that only lets an entitled client in.
 */
export function writeMutualTlsCerts(dir: string, caName: string): void {
  const ssl = (...args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe' });
  const ec = ['-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes'];
  ssl('req', '-x509', ...ec, '-days', '2', '-subj', `/CN=${caName}`, '-keyout', 'ca.key', '-out', 'ca.pem');
  for (const [name, ext] of [
    ['server', 'subjectAltName=IP:127.0.0.1'],
    ['client', 'extendedKeyUsage=clientAuth'],
  ] as const) {
    ssl('req', ...ec, '-subj', `/CN=${name}`, '-keyout', `${name}.key`, '-out', `${name}.csr`);
    fs.writeFileSync(path.join(dir, `${name}.ext`), `${ext}\n`);
    ssl(
      'x509',
      ...['-req', '-in', `${name}.csr`, '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial'],
      ...['-days', '2', '-extfile', `${name}.ext`, '-out', `${name}.pem`],
    );
  }
}

/** The HTTPS server options of that mirror: its certificate, and only clients the CA signed. */
export function mutualTlsServerOptions(dir: string): {
  cert: Buffer;
  key: Buffer;
  ca: Buffer;
  requestCert: true;
  rejectUnauthorized: true;
} {
  const read = (n: string) => fs.readFileSync(path.join(dir, n));
  return {
    cert: read('server.pem'),
    key: read('server.key'),
    ca: read('ca.pem'),
    requestCert: true,
    rejectUnauthorized: true,
  };
}
