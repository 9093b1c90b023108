import type {
  AppEvent,
  ErrorValueT,
  FerryApi,
  IpcResult,
  Req,
  RequestChannel,
  Res,
} from '../../src-main/ipc/contract.js';

/**
 * The renderer's only door to main: window.ferry, installed by the preload under Electron and
 * by the test harness in Chromium. Failures arrive as values; call() turns them into IpcError so
 * components can show code, message and hint.
 */

declare global {
  interface Window {
    ferry?: FerryApi;
  }
}

export class IpcError extends Error {
  constructor(readonly value: ErrorValueT) {
    super(value.message);
  }
  get code(): ErrorValueT['code'] {
    return this.value.code;
  }
}

function bridge(): FerryApi {
  if (!window.ferry)
    throw new IpcError({
      code: 'INTERNAL',
      message: 'The Ferry bridge is missing: this page must run inside the app.',
    });
  return window.ferry;
}

export async function call<C extends RequestChannel>(channel: C, req: Req<C>): Promise<Res<C>> {
  const r = (await bridge().invoke(channel, req)) as IpcResult<Res<C>>;
  if (!r || typeof r !== 'object' || !('ok' in r))
    throw new IpcError({ code: 'INTERNAL', message: `No answer on ${channel}.` });
  if (!r.ok) throw new IpcError(r.error);
  return r.value;
}

export function errorOf(err: unknown): ErrorValueT {
  if (err instanceof IpcError) return err.value;
  return { code: 'INTERNAL', message: err instanceof Error ? err.message : String(err) };
}

export function onEvent(fn: (e: AppEvent) => void): () => void {
  return window.ferry ? window.ferry.onEvent(fn) : () => undefined;
}
