/**
 * One 'abort' listener on a shared signal, however many requests wait on it.
 *
 * A fetch hands its job's one AbortSignal to every request, retry sleep and blob download.
 * undici adds a listener per request (removed only when the body closes), so with more than
 * ten things in flight at once — `--concurrency 16`, or image manifests fetched beside six
 * blob downloads — Node printed a MaxListenersExceededWarning into the fetch's output, and the
 * listener list grew and shrank with every request. Here each waiter registers with a fan-out:
 * the shared signal carries a single listener that calls every waiter, and that listener is
 * removed with the last waiter, so the shared signal ends as it started.
 */

type Waiter = () => void;

interface Fanout {
  waiters: Set<Waiter>;
  listener: () => void;
}

const fanouts = new WeakMap<AbortSignal, Fanout>();

/** Call `fn` once when `signal` aborts. Returns the release: call it once no longer waiting. */
export function onAbort(signal: AbortSignal, fn: Waiter): () => void {
  if (signal.aborted) {
    queueMicrotask(fn);
    return () => undefined;
  }
  let f = fanouts.get(signal);
  if (!f) {
    const waiters = new Set<Waiter>();
    const listener = () => {
      fanouts.delete(signal);
      const all = [...waiters];
      waiters.clear();
      for (const w of all) w();
    };
    f = { waiters, listener };
    fanouts.set(signal, f);
    signal.addEventListener('abort', listener, { once: true });
  }
  const fan = f;
  // Each registration is its own function, so the same `fn` may wait twice.
  const w: Waiter = () => fn();
  fan.waiters.add(w);
  return () => {
    if (!fan.waiters.delete(w) || fan.waiters.size > 0) return;
    if (fanouts.get(signal) === fan) fanouts.delete(signal);
    signal.removeEventListener('abort', fan.listener);
  };
}

/** A signal of its own for one request, aborted with `parent`; `release` unlinks it. */
export function childSignal(parent: AbortSignal | undefined): {
  signal: AbortSignal | undefined;
  release: () => void;
} {
  if (!parent) return { signal: undefined, release: () => undefined };
  if (parent.aborted) return { signal: AbortSignal.abort(parent.reason), release: () => undefined };
  const ac = new AbortController();
  const release = onAbort(parent, () => ac.abort(parent.reason));
  return { signal: ac.signal, release };
}
