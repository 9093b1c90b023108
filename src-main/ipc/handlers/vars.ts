import { writeFileAtomic } from '../../core/base/fs/atomic.js';
import type { Handlers } from '../dispatcher.js';
import type { AppServices } from '../services.js';
import { type ServingState } from './serving.js';
/** vars.*: the Kubespray variables for the running services, shown or saved. */
export function varsHandlers(
  s: AppServices,
  { varsFor }: ServingState,
): Pick<Handlers, 'vars.generate' | 'vars.save'> {
  return {
    'vars.generate': async ({ jobId, style, kubespray }) => ({
      style,
      ...(await varsFor(jobId, style, kubespray)),
    }),
    'vars.save': async ({ jobId, style, kubespray, which }) => {
      const v = await varsFor(jobId, style, kubespray);
      const target = await s.dialogs.saveFile({
        title: which === 'offlineYml' ? 'Save offline.yml' : 'Save the containerd configuration',
        defaultName: which === 'offlineYml' ? 'offline.yml' : 'containerd-hosts.toml',
      });
      if (!target) return { saved: null };
      await writeFileAtomic(target, which === 'offlineYml' ? v.offlineYml : v.containerdConfig);
      return { saved: target };
    },
  };
}
