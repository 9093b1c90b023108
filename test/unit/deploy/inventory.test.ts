import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { parseNodeSpec, planNodes, renderInventory } from '../../../src-main/core/deploy/inventory.js';
import { applyEvent, newDeployState, parseEventLine } from '../../../src-main/core/deploy/events.js';

describe('deploy inventory', () => {
  it('reads NAME=ADDRESS[,ROLE…] with the role names a technician types', () => {
    expect(parseNodeSpec('cp1=10.0.0.11,control-plane,etcd')).toEqual({
      name: 'cp1',
      address: '10.0.0.11',
      roles: ['control-plane', 'etcd'],
    });
    expect(parseNodeSpec('w1=node-1.lab,worker,kube_node').roles).toEqual(['worker']);
    expect(parseNodeSpec('me=local').address).toBe('local');
    expect(() => parseNodeSpec('10.0.0.1')).toThrow(/NAME=ADDRESS/);
    expect(() => parseNodeSpec('CP_1=10.0.0.1')).toThrow(/not a valid Kubernetes node name/);
    expect(() => parseNodeSpec('a=10.0.0.1,boss')).toThrow(/unknown role 'boss'/);
    expect(() => parseNodeSpec('a=10.0.0.1;rm')).toThrow(/not an IP address or host name/);
  });

  it('lays out roles when none are given: one control plane, 1 or 3 etcd, all workers', () => {
    const five = planNodes(['a', 'b', 'c', 'd', 'e'].map((n, i) => parseNodeSpec(`${n}=10.0.0.${i + 1}`)));
    expect(five.filter((n) => n.roles.includes('control-plane')).map((n) => n.name)).toEqual(['a']);
    expect(five.filter((n) => n.roles.includes('etcd')).map((n) => n.name)).toEqual(['a', 'b', 'c']);
    expect(five.every((n) => n.roles.includes('worker'))).toBe(true);
    const two = planNodes([parseNodeSpec('a=10.0.0.1'), parseNodeSpec('b=10.0.0.2')]);
    expect(two.filter((n) => n.roles.includes('etcd')).map((n) => n.name)).toEqual(['a']);
  });

  it('refuses what Kubespray would refuse later on the nodes', () => {
    expect(() => planNodes([])).toThrow(/No nodes/);
    expect(() => planNodes([parseNodeSpec('a=1.1.1.1,worker,etcd')])).toThrow(/control-plane role/);
    expect(() =>
      planNodes([parseNodeSpec('a=1.1.1.1,control-plane,etcd,worker'), parseNodeSpec('b=1.1.1.2,etcd')]),
    ).toThrow(/2 etcd node\(s\): etcd needs an odd number/);
    expect(() => planNodes([parseNodeSpec('a=1.1.1.1,control-plane,etcd')])).toThrow(
      /No node has the worker role/,
    );
    expect(() => planNodes([parseNodeSpec('a=1.1.1.1'), parseNodeSpec('a=1.1.1.2')])).toThrow(/given twice/);
  });

  it("writes hosts.yaml in inventory/sample's shape", () => {
    const doc = parse(
      renderInventory(planNodes([parseNodeSpec('a=10.0.0.1'), parseNodeSpec('me=local')]), {
        pythonInterpreter: '/usr/bin/python3',
      }),
    );
    expect(doc.all.hosts.a).toEqual({ ansible_host: '10.0.0.1', ip: '10.0.0.1', access_ip: '10.0.0.1' });
    expect(doc.all.hosts.me).toEqual({ ansible_connection: 'local' });
    expect(doc.all.vars).toEqual({ ansible_python_interpreter: '/usr/bin/python3' });
    expect(Object.keys(doc.all.children.kube_control_plane.hosts)).toEqual(['a']);
    expect(Object.keys(doc.all.children.kube_node.hosts)).toEqual(['a', 'me']);
    expect(Object.keys(doc.all.children.etcd.hosts)).toEqual(['a']);
    expect(Object.keys(doc.all.children.k8s_cluster.children)).toEqual(['kube_control_plane', 'kube_node']);
  });
});

describe('deploy events', () => {
  it('refuses lines that are not events, and folds events into per-host state', () => {
    expect(parseEventLine('not json')).toBeUndefined();
    expect(parseEventLine('{"type":"result","host":"a"}')).toBeUndefined();
    const s = newDeployState(['a', 'b']);
    const ev = (o: object) => parseEventLine(JSON.stringify({ t: 1, ...o }))!;
    applyEvent(s, ev({ type: 'task', id: '1', name: 'install', action: 'apt', handler: false }));
    expect(s.hosts.get('a')!.task).toBe('install');
    const r = { type: 'result', task: '1', name: 'install', ignored: false, msg: null, seconds: 1 };
    applyEvent(s, ev({ ...r, host: 'a', status: 'changed' }));
    applyEvent(s, ev({ ...r, host: 'b', status: 'failed', msg: 'no package', ignored: true }));
    expect(s.hosts.get('b')!.down).toBe(false); // ignore_errors: Ansible goes on with it
    applyEvent(s, ev({ ...r, host: 'b', status: 'failed', msg: 'no package' }));
    expect(s.hosts.get('a')!.counts.changed).toBe(1);
    expect(s.hosts.get('b')!.down).toBe(true);
    expect(s.failures).toEqual([{ host: 'b', task: 'install', status: 'failed', message: 'no package' }]);
    applyEvent(s, ev({ type: 'task', id: '2', name: 'next', action: 'x', handler: false }));
    expect(s.hosts.get('a')!.task).toBe('next');
    expect(s.hosts.get('b')!.task).toBeUndefined(); // a failed host runs no more tasks
  });
});
