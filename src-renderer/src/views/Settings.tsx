import { useEffect, useState } from 'react';
import type { ErrorValueT, Res, Settings as SettingsT } from '../../../src-main/ipc/contract.js';
import { call, errorOf } from '../api.js';
import { ErrorBox, Section, StatusPill } from '../components/common.js';
import { useApp, type Theme } from '../store.js';

type Keys = Res<'keys.list'>;

export function KeyList({ keys }: { keys: Keys }) {
  if (!keys.length)
    return (
      <p className="muted">
        No keys yet. Generate one on the connected side; trust its public key on the offline side.
      </p>
    );
  return (
    <ul className="item-list" aria-label="Keys">
      {keys.map((k) => (
        <li key={k.fingerprint}>
          <strong>{k.name}</strong>
          <span className="fingerprint small">{k.fingerprint}</span>
          <span>
            {k.own ? (
              <StatusPill tone="accent">this machine's signing key</StatusPill>
            ) : (
              <StatusPill tone="good">trusted</StatusPill>
            )}
          </span>
        </li>
      ))}
    </ul>
  );
}

type Proxy = SettingsT['proxy'];

/** The three proxy settings; a field emptied is no setting (undefined), never ''. */
export function ProxyFields({ proxy, onChange }: { proxy: Proxy; onChange(proxy: Proxy): void }) {
  const field = (key: keyof Proxy, label: string, name: string, placeholder?: string) => (
    <label className="field">
      <span>{label}</span>
      <input
        aria-label={name}
        value={proxy[key] ?? ''}
        placeholder={placeholder}
        onChange={(e) => onChange({ ...proxy, [key]: e.target.value || undefined })}
      />
    </label>
  );
  return (
    <>
      {field('https', 'HTTPS proxy', 'HTTPS proxy', 'http://proxy.example:3128')}
      {field('http', 'HTTP proxy', 'HTTP proxy')}
      {field('noProxy', 'No proxy for', 'No proxy', 'localhost,.internal')}
    </>
  );
}

export function SettingsView() {
  const [keys, setKeys] = useState<Keys>([]);
  const [settings, setSettings] = useState<SettingsT | null>(null);
  const [pem, setPem] = useState('');
  const [note, setNote] = useState('');
  const [error, setError] = useState<ErrorValueT | null>(null);
  const [mirrorsText, setMirrorsText] = useState('');
  const [insecureText, setInsecureText] = useState('');
  const setTheme = useApp((s) => s.setTheme);

  const reload = async () => {
    try {
      setKeys(await call('keys.list', {}));
      const s = await call('settings.get', {});
      setSettings(s);
      setMirrorsText(s.mirrors.map((m) => `${m.upstream} = ${m.mirror}`).join('\n'));
      setInsecureText(s.insecureRegistries.join('\n'));
    } catch (err) {
      setError(errorOf(err));
    }
  };
  useEffect(() => {
    void reload();
  }, []);

  const act = async (fn: () => Promise<string | void>) => {
    setError(null);
    setNote('');
    try {
      const msg = await fn();
      if (msg) setNote(msg);
      await reload();
    } catch (err) {
      setError(errorOf(err));
    }
  };
  const own = keys.find((k) => k.own);

  return (
    <div className="stack settings">
      {note ? (
        <p className="status-line" role="status">
          {note}
        </p>
      ) : null}
      {error ? <ErrorBox error={error} /> : null}
      <Section title="Keys">
        <KeyList keys={keys} />
        <div className="row wrap">
          <button
            type="button"
            onClick={() =>
              void act(
                async () => `Generated key ${(await call('keys.generate', { force: false })).fingerprint}`,
              )
            }
            disabled={!!own}
          >
            Generate a signing key
          </button>
          <button
            type="button"
            disabled={!own}
            onClick={() =>
              void act(async () => {
                const r = await call('keys.exportPublic', {});
                return r.saved ? `Public key saved to ${r.saved}` : '';
              })
            }
          >
            Export the public key…
          </button>
          <button
            type="button"
            onClick={() =>
              void act(async () => {
                const k = await call('keys.trustFile', {});
                return k ? `Now trusting ${k.name} (${k.fingerprint})` : '';
              })
            }
          >
            Trust a key from a file…
          </button>
        </div>
        <label className="field">
          <span>Or paste a public key to trust</span>
          <textarea
            aria-label="Public key to trust"
            rows={4}
            value={pem}
            onChange={(e) => setPem(e.target.value)}
            placeholder="-----BEGIN PUBLIC KEY-----"
          />
        </label>
        <div className="row">
          <button
            type="button"
            disabled={!pem.trim()}
            onClick={() =>
              void act(async () => {
                const k = await call('keys.trust', { pem });
                setPem('');
                return `Now trusting ${k.name} (${k.fingerprint})`;
              })
            }
          >
            Trust this key
          </button>
        </div>
      </Section>
      {settings ? (
        <Section title="Network">
          <form
            className="form"
            aria-label="Proxy and mirrors"
            onSubmit={(e) => {
              e.preventDefault();
              const mirrors = mirrorsText
                .split('\n')
                .map((l) => l.trim())
                .filter(Boolean)
                .map((l) => {
                  const [upstream, mirror] = l.split('=').map((x) => x.trim());
                  return { upstream: upstream ?? '', mirror: mirror ?? '' };
                });
              void act(async () => {
                const insecureRegistries = insecureText
                  .split(/[\s,]+/)
                  .map((x) => x.trim())
                  .filter(Boolean);
                await call('settings.set', { proxy: settings.proxy, mirrors, insecureRegistries });
                return 'Saved';
              });
            }}
          >
            <ProxyFields proxy={settings.proxy} onChange={(proxy) => setSettings({ ...settings, proxy })} />
            <label className="field">
              <span>Mirrors (one per line: URL prefix or registry host = mirror URL)</span>
              <textarea
                aria-label="Mirrors"
                rows={3}
                value={mirrorsText}
                onChange={(e) => setMirrorsText(e.target.value)}
                placeholder="docker.io = https://mirror.example/docker"
              />
            </label>
            <label className="field">
              <span>Registries without TLS (host:port, one per line)</span>
              <textarea
                aria-label="Registries without TLS"
                rows={2}
                value={insecureText}
                onChange={(e) => setInsecureText(e.target.value)}
              />
            </label>
            <div className="row">
              <button type="submit" className="primary">
                Save network settings
              </button>
            </div>
          </form>
        </Section>
      ) : null}
      {settings ? (
        <Section title="Store and appearance">
          <p>
            Store: <code>{settings.storeLabel}</code>
          </p>
          <div className="row wrap">
            <button
              type="button"
              onClick={() => void act(async () => void (await call('settings.pickStore', {})))}
            >
              Choose another store folder…
            </button>
            <label className="field narrow">
              <span>Theme</span>
              <select
                aria-label="Theme"
                value={settings.theme}
                onChange={(e) =>
                  void act(async () => {
                    const s = await call('settings.set', { theme: e.target.value as Theme });
                    setTheme(s.theme);
                  })
                }
              >
                <option value="system">Like the system</option>
                <option value="light">Light</option>
                <option value="dark">Dark</option>
              </select>
            </label>
          </div>
        </Section>
      ) : null}
    </div>
  );
}
