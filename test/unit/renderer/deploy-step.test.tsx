import { renderToStaticMarkup } from 'react-dom/server';
import { describe, expect, it } from 'vitest';
import { addItem } from '../../../src-main/core/base/jobs/items.js';
import { DeployItemSchema } from '../../../src-main/ipc/contract.js';
import {
  deployPicture,
  FailureList,
  NodeGrid,
  PreflightList,
} from '../../../src-renderer/src/views/offline/DeployStep.js';

/** The text of the element labelled `label` inside the element labelled `within`. */
function labelled(html: string, within: string, label: string): string | undefined {
  const row = new RegExp(`aria-label="${within}"[^>]*>(.*?)</tr>`).exec(html)?.[1] ?? '';
  const cell = new RegExp(`aria-label="${label}"[^>]*>(.*?)</td>`).exec(row)?.[1];
  return cell?.replace(/<[^>]+>/g, '');
}

const counts = (o: Partial<Record<'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable', number>>) => ({
  ok: 0,
  changed: 0,
  failed: 0,
  skipped: 0,
  unreachable: 0,
  ...o,
});

describe('deploy step', () => {
  // The items core's deploy emits, in order, folded the way the renderer folds job events.
  const emitted = [
    {
      type: 'preflight',
      id: 'cp1\u0000ssh',
      node: 'cp1',
      check: 'ssh',
      ok: true,
      detail: 'ssh root@10.0.0.11 works',
    },
    {
      type: 'preflight',
      id: 'w1\u0000clock',
      node: 'w1',
      check: 'clock',
      ok: false,
      detail: 'clock is 95 s behind this machine',
      fix: 'Set the node’s clock',
    },
    { type: 'task', id: 'current', name: 'bootstrap-os : Install python', n: 1 },
    { type: 'host', id: 'cp1', task: 'bootstrap-os : Install python', counts: counts({}), down: false },
    { type: 'host', id: 'w1', task: 'bootstrap-os : Install python', counts: counts({}), down: false },
    { type: 'host', id: 'cp1', counts: counts({ ok: 4, changed: 2 }), down: false },
    { type: 'task', id: 'current', name: 'kubernetes/preinstall : Install packages', n: 7 },
    {
      type: 'host',
      id: 'cp1',
      task: 'kubernetes/preinstall : Install packages',
      counts: counts({ ok: 4, changed: 2 }),
      down: false,
    },
    { type: 'host', id: 'w1', counts: counts({ ok: 3, unreachable: 1 }), down: true },
    {
      type: 'failure',
      id: 'w1\u00001',
      host: 'w1',
      task: 'kubernetes/preinstall : Install packages',
      status: 'unreachable',
      message: 'Failed to connect to the host via ssh: Connection timed out',
    },
  ];

  it('emits only items the contract describes', () => {
    for (const i of emitted) expect(DeployItemSchema.safeParse(i).success, JSON.stringify(i)).toBe(true);
  });

  it('shows each node once with its current task and counts, and failures opened inline', () => {
    const items = emitted.reduce<Array<Record<string, unknown>>>((l, i) => addItem(l, i), []);
    const p = deployPicture({ items });
    expect(p.hosts.map((h) => h.id)).toEqual(['cp1', 'w1']);
    expect(p.task?.n).toBe(7);
    const grid = renderToStaticMarkup(<NodeGrid picture={p} running />);
    expect(labelled(grid, 'Node cp1', 'changed')).toBe('2');
    expect(labelled(grid, 'Node cp1', 'ok')).toBe('4');
    expect(grid).toMatch(/aria-label="Node cp1".*kubernetes\/preinstall : Install packages/);
    expect(labelled(grid, 'Node w1', 'failed')).toBe('1');
    expect(grid).toMatch(/aria-label="Node w1"[^>]*class="row-bad".*Unreachable/);
    const done = renderToStaticMarkup(<NodeGrid picture={p} running={false} />);
    expect(done).toMatch(/aria-label="Node cp1".*Done/);

    const failures = renderToStaticMarkup(<FailureList failures={p.failures} />);
    expect(failures).toMatch(/<details open="">.*w1.*Connection timed out/);
    const checks = renderToStaticMarkup(<PreflightList checks={p.preflight} />);
    expect(checks).toMatch(/failed.*w1.*clock.*95 s behind.*Fix: Set the node’s clock/);
    expect(checks).not.toMatch(/Fix:.*cp1/);
  });
});
