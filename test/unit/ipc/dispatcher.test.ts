import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { FerryError } from '../../../src-main/core/base/errors/index.js';
import { REQUEST_CHANNELS } from '../../../src-main/ipc/channels.js';
import { requests } from '../../../src-main/ipc/contract.js';
import { createDispatcher } from '../../../src-main/ipc/dispatcher.js';
import { createHandlers } from '../../../src-main/ipc/handlers/index.js';
import { testBackend } from '../../helpers/ipc-backend.js';

describe('the IPC contract', () => {
  it('names every channel once, and every channel has request and response schemas', () => {
    expect(new Set(REQUEST_CHANNELS).size).toBe(REQUEST_CHANNELS.length);
    expect(Object.keys(requests).sort()).toEqual([...REQUEST_CHANNELS].sort());
    for (const c of REQUEST_CHANNELS) {
      expect(requests[c].req).toBeInstanceOf(z.ZodType);
      expect(requests[c].res).toBeInstanceOf(z.ZodType);
    }
  });

  it('has a handler for every channel in this build', () => {
    const t = testBackend();
    const handlers = createHandlers(t.backend.services);
    expect(Object.keys(handlers).sort()).toEqual([...REQUEST_CHANNELS].sort());
    return t.cleanup();
  });

  it('refuses raw paths where a token is expected', () => {
    const r = requests['bundle.open'].req.safeParse({ token: '/etc/passwd' });
    expect(r.success).toBe(false);
    expect(
      requests['export.start'].req.safeParse({ target: { kind: 'folder', path: '/tmp/x' } }).success,
    ).toBe(false);
  });
});

describe('the dispatcher', () => {
  const dispatch = createDispatcher({
    'jobs.get': ({ id }) => {
      if (id === 'boom')
        throw new FerryError('NOT_FOUND', 'No job boom.', { hint: 'Start it again.', artifact: 'boom' });
      if (id === 'bad') return { nonsense: true } as never;
      if (id === 'crash') throw new TypeError('x is undefined');
      return {
        id,
        kind: 'verify',
        state: 'done',
        seq: 3,
        progress: {
          phase: 'done',
          bytesDone: 1,
          bytesTotal: 1,
          itemsDone: 1,
          itemsTotal: 1,
          itemsFailed: 0,
          speed: 0,
          eta: null,
        },
        items: [],
      };
    },
  });

  it('rejects a channel the contract does not name, without calling anything', async () => {
    const r = await dispatch('shell.exec', { cmd: 'rm -rf /' });
    expect(r).toMatchObject({ ok: false, error: { code: 'USAGE' } });
    expect(r.ok ? '' : r.error.message).toContain("Unknown IPC channel 'shell.exec'");
  });

  it('validates the request and names the offending field', async () => {
    const r = await dispatch('jobs.get', { id: 42 });
    expect(r).toMatchObject({ ok: false, error: { code: 'USAGE' } });
    expect(r.ok ? '' : r.error.message).toMatch(/jobs\.get: id:/);
    expect(await dispatch('jobs.get', { id: 'a', extra: 1 })).toMatchObject({
      ok: false,
      error: { code: 'USAGE' },
    });
  });

  it('answers UNSUPPORTED for a channel without a handler', async () => {
    expect(await dispatch('fetch.start', { choices: {} })).toMatchObject({
      ok: false,
      error: { code: 'USAGE' },
    });
    expect(await dispatch('keys.list', {})).toMatchObject({ ok: false, error: { code: 'UNSUPPORTED' } });
  });

  it('returns a handler error as a value with code, message, hint and artifact', async () => {
    expect(await dispatch('jobs.get', { id: 'boom' })).toEqual({
      ok: false,
      error: { code: 'NOT_FOUND', message: 'No job boom.', hint: 'Start it again.', artifact: 'boom' },
    });
    expect(await dispatch('jobs.get', { id: 'crash' })).toEqual({
      ok: false,
      error: { code: 'INTERNAL', message: 'x is undefined' },
    });
  });

  it('refuses to pass on an answer that breaks the contract', async () => {
    const r = await dispatch('jobs.get', { id: 'bad' });
    expect(r).toMatchObject({ ok: false, error: { code: 'INTERNAL' } });
    expect(r.ok ? '' : r.error.message).toContain('broke the contract');
  });

  it('returns the parsed value on success', async () => {
    expect(await dispatch('jobs.get', { id: 'j1' })).toMatchObject({ ok: true, value: { id: 'j1', seq: 3 } });
  });
});
