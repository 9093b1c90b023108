import { describe, expect, it } from 'vitest';
import type { HttpClient } from '../../../src-main/core/fetch/download/http-client.js';
import type { RegistryClient } from '../../../src-main/core/fetch/oci/registry-client.js';
import { sizePlan } from '../../../src-main/core/fetch/sizes.js';
import type { Plan } from '../../../src-main/core/plan/plan.js';
import { sizesView } from '../../../src-main/ipc/handlers/plan.js';
import { withSizes } from '../../../src-renderer/src/views/connected/ClusterStep.js';

const noNet = new Proxy(
  {},
  {
    get: (_t, p) => {
      if (p === 'then') return undefined;
      throw new Error(`network used: ${String(p)}`);
    },
  },
);

describe('the room chart before downloading, in the app', () => {
  it("a group only sizing knows (the nodes' OS packages) joins the plan's groups", async () => {
    const python = [
      {
        target: { python: '3.11', arch: 'aarch64' },
        wheels: [
          { filename: 'ansible-10.0-py3-none-any.whl', size: 40_000 },
          { filename: 'PyYAML-6.0-cp311-aarch64.whl', size: 650 },
        ],
      },
    ];
    const sizes = await sizePlan(
      {
        files: [],
        images: [],
        debs: [{ os: 'debian-12', packages: [{ filename: 'pool/huge.deb', size: 2 ** 32 }] }],
        python,
      },
      { client: noNet as HttpClient, registry: noNet as RegistryClient },
    );
    // The app: a group only sizing knows (the OS packages) joins the plan's groups.
    const plan = { files: [], images: [], python } as unknown as Plan;
    const view = sizesView(plan, sizes);
    const summary = withSizes(
      {
        kubesprayVersion: 'v2.31.0',
        kubeVersion: '1.35.4',
        arches: ['amd64'],
        counts: { files: 0, images: 0, total: 2 },
        bytes: null,
        groups: [{ name: 'python 3.11 aarch64', kind: 'file', count: 2, bytes: null }],
        warnings: [],
      },
      view,
    );
    expect(summary.groups).toEqual([
      { name: 'python 3.11 aarch64', kind: 'file', count: 2, bytes: 40_650 },
      { name: 'os packages debian-12', kind: 'file', count: 1, bytes: 2 ** 32 },
    ]);
    expect(summary.largestFile).toBe(2 ** 32);
  });
});
