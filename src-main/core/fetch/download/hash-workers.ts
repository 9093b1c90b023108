import { createHash, type Hash } from 'node:crypto';
import os from 'node:os';
import { Worker } from 'node:worker_threads';

/**
 * SHA-256 without SHA extensions runs at about 270 MB/s per core, slower than a LAN delivers
 * bytes, so parallel downloads hash in worker threads, spread over every core instead of
 * queueing on the main thread (a lone download hashes in-thread: see InlineHash). Bytes go to the
 * worker in 1 MiB batches whose memory is transferred there and back (a small pool of
 * buffers is reused, so hashing makes no garbage); a session that falls behind
 * by more than a few MiB makes its download wait (so memory stays flat and TCP slows the sender).
 * The worker is inline source so it runs unchanged under tsx, vitest and Electron's main.
 */

const WORKER_SOURCE = `
const { parentPort } = require('node:worker_threads');
const crypto = require('node:crypto');
const fs = require('node:fs');
const sessions = new Map();
const fileBuf = Buffer.allocUnsafe(1 << 20);
parentPort.on('message', (m) => {
  if (m.t === 'open') sessions.set(m.id, m.algos.map((a) => crypto.createHash(a)));
  else if (m.t === 'update') {
    const hs = sessions.get(m.id);
    const b = Buffer.from(m.buf, 0, m.n);
    if (hs) for (const h of hs) h.update(b);
    parentPort.postMessage({ t: 'ack', id: m.id, n: m.n, buf: m.buf }, [m.buf]);
  } else if (m.t === 'digest') {
    const hs = sessions.get(m.id);
    sessions.delete(m.id);
    parentPort.postMessage({ t: 'digest', id: m.id, hex: hs ? hs.map((h) => h.digest('hex')) : [] });
  } else if (m.t === 'file') {
    // A range of a file hashed here, read with this thread's own buffer: the bytes never pass
    // through the main thread (segmented downloads hash their finished pieces this way).
    const hs = sessions.get(m.id);
    let err;
    try {
      const fd = fs.openSync(m.path, 'r');
      try {
        for (let at = m.start; at < m.end; ) {
          const n = fs.readSync(fd, fileBuf, 0, Math.min(fileBuf.length, m.end - at), at);
          if (n === 0) throw new Error(m.path + ' ends at ' + at + ', before ' + m.end);
          const b = fileBuf.subarray(0, n);
          if (hs) for (const h of hs) h.update(b);
          at += n;
        }
      } finally {
        fs.closeSync(fd);
      }
    } catch (e) {
      err = String(e && e.message || e);
    }
    parentPort.postMessage({ t: 'file', id: m.id, seq: m.seq, err });
  } else if (m.t === 'drop') sessions.delete(m.id);
});
`;

const BATCH = 1 << 20;
const MAX_BACKLOG = 4 << 20;

interface Slot {
  worker: Worker;
  open: number;
}

/** Batch buffers travel to a worker and back; keeping them avoids allocating (and collecting) 1 MiB per batch. */
class BufferPool {
  private free: Buffer[] = [];
  take(): Buffer {
    return this.free.pop() ?? Buffer.allocUnsafeSlow(BATCH);
  }
  give(ab: ArrayBuffer): void {
    if (this.free.length < 32 && ab.byteLength === BATCH) this.free.push(Buffer.from(ab));
  }
}

export class HashSession implements Hasher {
  private cur: Buffer | undefined;
  private curLen = 0;
  /** Bytes sent to the worker and not yet hashed. */
  backlog = 0;
  private waiters: Array<() => void> = [];
  private digestWaiter?: { resolve: (hex: string[]) => void; reject: (err: unknown) => void };
  private closed = false;

  constructor(
    private readonly slot: Slot,
    readonly id: number,
    algos: string[],
    private readonly registry: Map<number, HashSession>,
    private readonly pool: BufferPool,
  ) {
    registry.set(id, this);
    // Referenced while it has work: a process waiting only for a digest must not exit.
    if (slot.open++ === 0) slot.worker.ref();
    slot.worker.postMessage({ t: 'open', id, algos });
  }

  update(chunk: Buffer): void {
    let off = 0;
    while (off < chunk.length) {
      if (!this.cur) {
        this.cur = this.pool.take();
        this.curLen = 0;
      }
      const n = chunk.copy(this.cur, this.curLen, off);
      off += n;
      this.curLen += n;
      if (this.curLen === this.cur.length) this.flush();
    }
  }

  private flush(): void {
    if (!this.cur) return;
    if (this.curLen === 0) return;
    // Batch buffers are allocUnsafeSlow: their ArrayBuffer is theirs alone, safe to transfer.
    const ab = this.cur.buffer as ArrayBuffer;
    this.backlog += this.curLen;
    this.slot.worker.postMessage({ t: 'update', id: this.id, buf: ab, n: this.curLen }, [ab]);
    this.cur = undefined;
    this.curLen = 0;
  }

  private fileWaiters = new Map<number, { resolve: () => void; reject: (err: unknown) => void }>();
  private fileSeq = 0;

  /** Hash bytes [start, end) of a file, read by the worker itself; in order with update(). */
  updateFromFile(file: string, start: number, end: number): Promise<void> {
    this.flush();
    const seq = ++this.fileSeq;
    return new Promise((resolve, reject) => {
      this.fileWaiters.set(seq, { resolve, reject });
      this.slot.worker.postMessage({ t: 'file', id: this.id, seq, path: file, start, end });
    });
  }

  onFile(seq: number, err?: string): void {
    const w = this.fileWaiters.get(seq);
    this.fileWaiters.delete(seq);
    if (err) w?.reject(new Error(err));
    else w?.resolve();
  }

  /** Resolves when the worker is close enough behind; await it between writes. */
  drain(): Promise<void> {
    if (this.backlog <= MAX_BACKLOG) return Promise.resolve();
    return new Promise((r) => this.waiters.push(r));
  }

  onAck(n: number): void {
    this.backlog -= n;
    if (this.backlog <= MAX_BACKLOG / 2) for (const w of this.waiters.splice(0)) w();
  }

  onDigest(hex: string[]): void {
    this.finish();
    this.digestWaiter?.resolve(hex);
  }

  onWorkerError(err: unknown): void {
    this.finish();
    for (const w of this.waiters.splice(0)) w();
    for (const w of this.fileWaiters.values()) w.reject(err);
    this.fileWaiters.clear();
    this.digestWaiter?.reject(err);
  }

  get worker(): Worker {
    return this.slot.worker;
  }

  /** Hex digests in the order the algorithms were given. */
  digest(): Promise<string[]> {
    this.flush();
    return new Promise((resolve, reject) => {
      this.digestWaiter = { resolve, reject };
      this.slot.worker.postMessage({ t: 'digest', id: this.id });
    });
  }

  /** Abandon the session (a failed or restarted download). */
  drop(): void {
    if (this.closed) return;
    this.slot.worker.postMessage({ t: 'drop', id: this.id });
    this.finish();
    for (const w of this.waiters.splice(0)) w();
    for (const w of this.fileWaiters.values()) w.resolve();
    this.fileWaiters.clear();
  }

  private finish(): void {
    if (this.closed) return;
    this.closed = true;
    if (--this.slot.open === 0) this.slot.worker.unref();
    this.registry.delete(this.id);
  }
}

export class HashWorkers {
  private slots: Slot[] = [];
  private readonly pool = new BufferPool();
  private readonly sessions = new Map<number, HashSession>();
  private nextId = 1;

  constructor(readonly size = defaultThreads()) {}

  private start(): void {
    for (let i = 0; i < this.size; i++) {
      const worker = new Worker(WORKER_SOURCE, { eval: true });
      worker.on(
        'message',
        (m: {
          t: string;
          id: number;
          n?: number;
          hex?: string[];
          buf?: ArrayBuffer;
          seq?: number;
          err?: string;
        }) => {
          if (m.buf) this.pool.give(m.buf);
          const s = this.sessions.get(m.id);
          if (!s) return;
          if (m.t === 'ack') s.onAck(m.n ?? 0);
          else if (m.t === 'digest') s.onDigest(m.hex ?? []);
          else if (m.t === 'file') s.onFile(m.seq ?? 0, m.err);
        },
      );
      // A dead worker fails its sessions (their downloads retry on a fresh pool) rather than hanging them.
      const fail = (err: unknown) => {
        for (const s of [...this.sessions.values()]) if (s.worker === worker) s.onWorkerError(err);
        this.slots = this.slots.filter((x) => x.worker !== worker);
      };
      worker.on('error', fail);
      worker.on('exit', (code) => fail(new Error(`hash worker exited with code ${code}`)));
      // After the listeners: adding a 'message' listener would ref the worker again.
      worker.unref();
      this.slots.push({ worker, open: 0 });
    }
  }

  /** A hashing session on the least busy worker. */
  open(algos: string[]): HashSession {
    if (this.slots.length === 0) this.start();
    const slot = this.slots.reduce((a, b) => (b.open < a.open ? b : a));
    return new HashSession(slot, this.nextId++, algos, this.sessions, this.pool);
  }

  async close(): Promise<void> {
    const slots = this.slots;
    this.slots = [];
    await Promise.all(slots.map((s) => s.worker.terminate()));
  }
}

function defaultThreads(): number {
  const env = Number(process.env.FERRY_HASH_THREADS);
  if (Number.isInteger(env) && env > 0) return env;
  return Math.max(
    1,
    typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length,
  );
}

/** What a download feeds its bytes to: a worker session or an in-thread hash. */
export interface Hasher {
  update(chunk: Buffer): void;
  readonly backlog: number;
  drain(): Promise<void>;
  /** Hex digests in the order the algorithms were given. */
  digest(): Promise<string[]>;
  drop(): void;
}

/**
 * Hashing on the thread that receives the bytes. For one download at a time this is the faster
 * choice: OpenSSL's SHA-256 (SHA-NI where the CPU has it) keeps up with the socket, and it saves
 * the copy into batch buffers and the message round trips, which on a 2-core machine compete for
 * the same cores as the socket, the disk writes and the server.
 */
export class InlineHash implements Hasher {
  readonly backlog = 0;
  private readonly hashes: Hash[];
  constructor(algos: string[]) {
    this.hashes = algos.map((a) => createHash(a));
  }
  update(chunk: Buffer): void {
    for (const h of this.hashes) h.update(chunk);
  }
  drain(): Promise<void> {
    return Promise.resolve();
  }
  digest(): Promise<string[]> {
    return Promise.resolve(this.hashes.map((h) => h.digest('hex')));
  }
  drop(): void {
    /* nothing held outside this object */
  }
}

let shared: HashWorkers | undefined;
/** The process-wide pool (workers are unref'd: they never keep the process alive). */
export function sharedHashWorkers(): HashWorkers {
  shared ??= new HashWorkers();
  return shared;
}
