import fs from 'node:fs/promises';
import path from 'node:path';
import { z } from 'zod';
import { configDir, dataDir } from '../core/base/config/dirs.js';
import { FerryError } from '../core/base/errors/index.js';
import { writeFileAtomic } from '../core/base/fs/atomic.js';
import { SettingsSchema, type Settings } from './contract.js';

/**
 * The app's settings file (config dir, app-settings.json). The store path is kept here in main
 * only; the renderer sees it as a label and changes it through a folder dialog.
 */

const FileSchema = z
  .object({
    proxy: SettingsSchema.shape.proxy.default({}),
    mirrors: SettingsSchema.shape.mirrors.default([]),
    insecureRegistries: SettingsSchema.shape.insecureRegistries.default([]),
    storeDir: z.string().nullable().default(null),
    theme: SettingsSchema.shape.theme.default('system'),
  })
  .strict();
type SettingsFile = z.infer<typeof FileSchema>;

export class SettingsStore {
  readonly file: string;
  constructor(private readonly env: NodeJS.ProcessEnv = process.env) {
    this.file = path.join(configDir(env), 'app-settings.json');
  }

  private async read(): Promise<SettingsFile> {
    let text: string;
    try {
      text = await fs.readFile(this.file, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return FileSchema.parse({});
      throw err;
    }
    let json: unknown;
    try {
      json = JSON.parse(text);
    } catch {
      throw new FerryError('CONFIG', `${this.file} is not valid JSON.`, {
        artifact: this.file,
        hint: 'Fix or delete the file; Ferry recreates it with defaults.',
      });
    }
    const parsed = FileSchema.safeParse(json);
    if (!parsed.success) {
      const i = parsed.error.issues[0];
      throw new FerryError('CONFIG', `${this.file}: ${i.path.join('.')}: ${i.message}`, {
        artifact: this.file,
        hint: 'Fix or delete the file; Ferry recreates it with defaults.',
      });
    }
    return parsed.data;
  }

  /** The store folder: the chosen one, or the default under the data dir. */
  async storeDir(): Promise<string> {
    return (await this.read()).storeDir ?? path.join(dataDir(this.env), 'store');
  }

  async raw(): Promise<SettingsFile> {
    return this.read();
  }

  async get(): Promise<Settings> {
    const f = await this.read();
    return {
      proxy: f.proxy,
      mirrors: f.mirrors,
      insecureRegistries: f.insecureRegistries,
      theme: f.theme,
      storeLabel: f.storeDir ?? path.join(dataDir(this.env), 'store'),
    };
  }

  /**
   * Merges a patch as the IPC schema parses it (`.optional()`: absent or undefined); a key given
   * as undefined falls back to the file schema's default, as it always has.
   */
  async update(patch: {
    [K in 'proxy' | 'mirrors' | 'insecureRegistries' | 'theme' | 'storeDir']?: SettingsFile[K] | undefined;
  }): Promise<Settings> {
    const cur = await this.read();
    const next = FileSchema.parse({ ...cur, ...patch });
    await writeFileAtomic(this.file, JSON.stringify(next, null, 2) + '\n');
    return this.get();
  }
}
