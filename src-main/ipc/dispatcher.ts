import { FerryError, toErrorValue } from '../core/base/errors/index.js';
import { isRequestChannel, type RequestChannel } from './channels.js';
import type { z } from 'zod';
import { requests, type IpcResult, type Res } from './contract.js';

/**
 * Turns handlers into the one function both Electron's ipcMain and the test harness call. It
 * never throws: unknown channels, invalid requests, handler failures and responses that break
 * the contract all come back as `{ok: false, error}` values, because only an Error's message
 * would survive ipcMain.handle.
 */

/** The request after zod parsing (defaults applied). */
export type ParsedReq<C extends RequestChannel> = z.output<(typeof requests)[C]['req']>;
export type Handlers = { [C in RequestChannel]: (req: ParsedReq<C>) => Promise<Res<C>> | Res<C> };

export type Dispatch = (channel: string, raw: unknown) => Promise<IpcResult<unknown>>;

export function createDispatcher(handlers: Partial<Handlers>): Dispatch {
  return async (channel, raw) => {
    if (!isRequestChannel(channel)) {
      return {
        ok: false,
        error: {
          code: 'USAGE',
          message: `Unknown IPC channel '${String(channel).slice(0, 80)}'.`,
          hint: 'The renderer and main are out of step; reload the app.',
        },
      };
    }
    const schema = requests[channel];
    const parsed = schema.req.safeParse(raw ?? {});
    if (!parsed.success) {
      const issue = parsed.error.issues[0];
      return {
        ok: false,
        error: {
          code: 'USAGE',
          message: `Invalid request on ${channel}: ${issue.path.join('.') || '(request)'}: ${issue.message}`,
          details: {
            issues: parsed.error.issues
              .slice(0, 5)
              .map((i) => ({ path: i.path.join('.'), message: i.message })),
          },
        },
      };
    }
    const handler = handlers[channel] as ((req: unknown) => unknown) | undefined;
    if (!handler) {
      return {
        ok: false,
        error: { code: 'UNSUPPORTED', message: `${channel} is not available in this build of Ferry.` },
      };
    }
    try {
      const value = await handler(parsed.data);
      const out = schema.res.safeParse(value);
      if (!out.success) {
        const issue = out.error.issues[0];
        throw new FerryError(
          'INTERNAL',
          `The answer on ${channel} broke the contract: ${issue.path.join('.') || '(response)'}: ${issue.message}`,
        );
      }
      return { ok: true, value: out.data };
    } catch (err) {
      return { ok: false, error: toErrorValue(err) };
    }
  };
}
