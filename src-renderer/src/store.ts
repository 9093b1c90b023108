import { create } from 'zustand';
import { createJSONStorage, persist } from 'zustand/middleware';
import type {
  AppEvent,
  BundleSummary,
  ClusterChoices,
  ErrorValueT,
  JobSnapshot,
  PlanSummary,
  Res,
} from '../../src-main/ipc/contract.js';
import { call, errorOf, onEvent } from './api.js';
import { applyJobEvent, fromSnapshot, isJobEvent, type JobView } from './jobs.js';

export type Section = 'connected' | 'offline' | 'settings';
export type JobKind = JobSnapshot['kind'];
export type Theme = 'system' | 'light' | 'dark';

export type Loadable<T> =
  { status: 'idle' | 'loading' } | { status: 'ready'; value: T } | { status: 'error'; error: ErrorValueT };

export interface AppState {
  info: Res<'app.info'> | null;
  theme: Theme;
  section: Section;
  connectedStep: number;
  offlineStep: number;
  jobs: Record<string, JobView>;
  /** The job each step shows: the newest of its kind. */
  latest: Partial<Record<JobKind, string>>;
  choices: ClusterChoices;
  /** What each picked file's token stands for (main's label), so a step shows it after a reload. */
  labels: Record<string, string>;
  setLabel(token: string, label: string): void;
  plan: Loadable<PlanSummary>;
  bundle: BundleSummary | null;
  selectedTile: string | null;
  /** What the technician accepted about the bundle's signature on the integrity step. */
  trust: { allowUntrusted: boolean; allowUnsigned: boolean };
  /** Image naming the services step generates offline.yml with; the deploy step uses the same. */
  namingStyle: 'kubespray' | 'mirror';
  setNamingStyle(s: 'kubespray' | 'mirror'): void;
  setTrust(t: { allowUntrusted: boolean; allowUnsigned: boolean }): void;
  setSection(s: Section): void;
  setStep(side: 'connected' | 'offline', step: number): void;
  setTheme(t: Theme): void;
  setChoices(patch: Partial<ClusterChoices>): void;
  setPlan(p: Loadable<PlanSummary>): void;
  setBundle(b: BundleSummary | null): void;
  selectTile(id: string | null): void;
  track(kind: JobKind, jobId: string): void;
  applyEvent(e: AppEvent): void;
  attach(id: string): Promise<void>;
  attachAll(): Promise<void>;
}

export const DEFAULT_CHOICES: ClusterChoices = {
  kubespray: { source: 'release', version: '' },
  arches: ['amd64'],
  runtime: 'containerd',
  network: 'calico',
  addons: [],
  extraImages: [],
  extraFiles: [],
};

/**
 * Where the technician is (side, step, chosen bundle, choices) survives a renderer reload through
 * sessionStorage; jobs are not persisted but re-attached from main (jobs.list), which owns them.
 */
export const useApp = create<AppState>()(
  persist(
    (set, get) => ({
      info: null,
      theme: 'system',
      section: 'connected',
      connectedStep: 0,
      offlineStep: 0,
      jobs: {},
      latest: {},
      choices: DEFAULT_CHOICES,
      labels: {},
      setLabel: (token, label) => set({ labels: { ...get().labels, [token]: label } }),
      plan: { status: 'idle' },
      bundle: null,
      selectedTile: null,
      trust: { allowUntrusted: false, allowUnsigned: false },
      namingStyle: 'kubespray',
      setNamingStyle: (namingStyle) => set({ namingStyle }),
      setTrust: (trust) => set({ trust }),
      setSection: (section) => set({ section }),
      setStep: (side, step) => set(side === 'connected' ? { connectedStep: step } : { offlineStep: step }),
      setTheme: (theme) => set({ theme }),
      setChoices: (patch) => set({ choices: { ...get().choices, ...patch } }),
      setPlan: (plan) => set({ plan }),
      setBundle: (bundle) =>
        set({ bundle, selectedTile: null, trust: { allowUntrusted: false, allowUnsigned: false } }),
      selectTile: (selectedTile) => set({ selectedTile }),
      track: (kind, jobId) => set({ latest: { ...get().latest, [kind]: jobId } }),
      applyEvent: (e) => {
        if (!isJobEvent(e)) return;
        const { view, gap } = applyJobEvent(get().jobs[e.event.jobId], e.kind, e.event);
        set({ jobs: { ...get().jobs, [view.id]: view } });
        if (gap) void get().attach(view.id);
      },
      attach: async (id) => {
        try {
          const snap = await call('jobs.get', { id });
          set({ jobs: { ...get().jobs, [id]: fromSnapshot(snap, get().jobs[id]) } });
        } catch {
          // The job is gone (main restarted); the step shows its start button again.
        }
      },
      attachAll: async () => {
        const list = await call('jobs.list', {});
        const jobs = { ...get().jobs };
        const latest = { ...get().latest };
        for (const s of list) {
          jobs[s.id] = fromSnapshot(s, jobs[s.id]);
          latest[s.kind] = s.id;
        }
        set({ jobs, latest });
      },
    }),
    {
      name: 'ferry-ui',
      storage: createJSONStorage(() => sessionStorage),
      partialize: (s) => ({
        section: s.section,
        connectedStep: s.connectedStep,
        offlineStep: s.offlineStep,
        choices: s.choices,
        labels: s.labels,
        bundle: s.bundle,
        trust: s.trust,
        namingStyle: s.namingStyle,
        latest: s.latest,
      }),
    },
  ),
);

let unsubscribe: (() => void) | null = null;

/** Subscribe to main's events once, then catch up on jobs that ran before this page loaded. */
export async function startApp(): Promise<void> {
  unsubscribe?.();
  unsubscribe = onEvent((e) => useApp.getState().applyEvent(e));
  try {
    const info = await call('app.info', {});
    useApp.setState({ info });
    const settings = await call('settings.get', {});
    useApp.setState({ theme: settings.theme });
  } catch (err) {
    console.error(errorOf(err).message);
  }
  await useApp
    .getState()
    .attachAll()
    .catch(() => undefined);
}

export function useJob(kind: JobKind): JobView | undefined {
  return useApp((s) => {
    const id = s.latest[kind];
    return id ? s.jobs[id] : undefined;
  });
}
