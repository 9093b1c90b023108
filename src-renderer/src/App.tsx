import { useEffect } from 'react';
import { Missing, useModule } from './components/common.js';
import { useApp, type Section } from './store.js';
import { ClusterStep } from './views/connected/ClusterStep.js';
import { DownloadStep } from './views/connected/DownloadStep.js';
import { DriveStep } from './views/connected/DriveStep.js';
import { DeployStep } from './views/offline/DeployStep.js';
import { IntegrityStep } from './views/offline/IntegrityStep.js';
import { MediaStep } from './views/offline/MediaStep.js';
import { ServicesStep } from './views/offline/ServicesStep.js';
import { SettingsView } from './views/Settings.js';

const SIDES: Array<{ id: Section; label: string }> = [
  { id: 'connected', label: 'Connected side' },
  { id: 'offline', label: 'Offline side' },
  { id: 'settings', label: 'Settings' },
];

const STEPS = {
  connected: [
    { title: 'Cluster', sub: 'What to carry', module: 'plan' },
    { title: 'Download', sub: 'Fetch and check', module: 'fetch' },
    { title: 'Drive', sub: 'Export the bundle', module: 'export' },
  ],
  offline: [
    { title: 'Media', sub: 'Find the bundle', module: 'verify' },
    { title: 'Integrity', sub: 'Check every byte', module: 'verify' },
    { title: 'Services', sub: 'Serve and configure', module: 'serve' },
    { title: 'Deploy', sub: 'Run Kubespray', module: 'deploy' },
  ],
} as const;

export function Stepper({ side }: { side: 'connected' | 'offline' }) {
  const step = useApp((s) => (side === 'connected' ? s.connectedStep : s.offlineStep));
  const setStep = useApp((s) => s.setStep);
  return (
    <nav aria-label={side === 'connected' ? 'Connected steps' : 'Offline steps'}>
      <ol className="stepper">
        {STEPS[side].map((s, i) => (
          <li key={s.title}>
            <button
              type="button"
              className={`step ${i === step ? 'step-current' : ''} ${i < step ? 'step-past' : ''}`}
              aria-current={i === step ? 'step' : undefined}
              onClick={() => setStep(side, i)}
            >
              <span className="step-num" aria-hidden="true">
                {i + 1}
              </span>
              <span className="step-text">
                <span className="step-title">{s.title}</span>
                <span className="step-sub">{s.sub}</span>
              </span>
            </button>
          </li>
        ))}
      </ol>
    </nav>
  );
}

function StepBody({ side }: { side: 'connected' | 'offline' }) {
  const step = useApp((s) => (side === 'connected' ? s.connectedStep : s.offlineStep));
  const meta = STEPS[side][step];
  const available = useModule(meta.module);
  const body =
    side === 'connected'
      ? [<ClusterStep key="c" />, <DownloadStep key="d" />, <DriveStep key="e" />][step]
      : [<MediaStep key="m" />, <IntegrityStep key="i" />, <ServicesStep key="s" />, <DeployStep key="d" />][
          step
        ];
  return (
    <>
      {!available ? <Missing what={`${meta.title} (${meta.sub.toLowerCase()})`} /> : null}
      {body}
    </>
  );
}

export function useThemeClass(): void {
  const theme = useApp((s) => s.theme);
  useEffect(() => {
    const root = document.documentElement;
    const apply = () => {
      const dark =
        theme === 'dark' ||
        (theme === 'system' && window.matchMedia?.('(prefers-color-scheme: dark)').matches);
      root.dataset.theme = dark ? 'dark' : 'light';
    };
    apply();
    const mq = window.matchMedia?.('(prefers-color-scheme: dark)');
    mq?.addEventListener('change', apply);
    return () => mq?.removeEventListener('change', apply);
  }, [theme]);
}

/** The Ferry mark: a boat on a wave (same drawing as resources/icon.svg). */
export function Logo() {
  return (
    <svg className="logo" viewBox="0 0 64 64" width="30" height="30" aria-hidden="true">
      <rect width="64" height="64" rx="14" fill="#1f6feb" />
      <path d="M14 36h36l-5 9H19z" fill="#fff" />
      <path d="M22 36v-9h20v9" fill="none" stroke="#fff" strokeWidth="4" strokeLinejoin="round" />
      <path d="M29 27v-6h6v6" fill="#fff" />
      <path
        d="M10 51c4 0 4-3 8-3s4 3 8 3 4-3 8-3 4 3 8 3 4-3 8-3 4 3 8 3"
        fill="none"
        stroke="#9ec5ff"
        strokeWidth="3"
        strokeLinecap="round"
      />
    </svg>
  );
}

export function App() {
  const section = useApp((s) => s.section);
  const setSection = useApp((s) => s.setSection);
  const info = useApp((s) => s.info);
  useThemeClass();
  return (
    <div className="app">
      <header className="topbar">
        <div className="brand">
          <Logo />
          <span>Ferry</span>
          {info ? <span className="version">{info.version}</span> : null}
        </div>
        <nav aria-label="Sides">
          <ul className="tabs" role="tablist">
            {SIDES.map((s) => (
              <li key={s.id} role="presentation">
                <button
                  type="button"
                  role="tab"
                  id={`tab-${s.id}`}
                  aria-selected={section === s.id}
                  aria-controls="main"
                  className={`tab ${section === s.id ? 'tab-current' : ''}`}
                  onClick={() => setSection(s.id)}
                >
                  {s.label}
                </button>
              </li>
            ))}
          </ul>
        </nav>
      </header>
      <main id="main" role="tabpanel" aria-labelledby={`tab-${section}`}>
        {section === 'settings' ? (
          <SettingsView />
        ) : (
          <>
            <Stepper side={section} />
            <StepBody side={section} />
          </>
        )}
      </main>
    </div>
  );
}
