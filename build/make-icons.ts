/**
 * Renders resources/icon.svg to the PNGs electron-builder needs (it derives .icns and .ico from
 * the 1024 px one) and the Linux icon set. Run after changing the drawing:
 *   npx tsx build/make-icons.ts
 * Uses Debian Chromium through playwright-core, so it works without network.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const svg = fs.readFileSync(path.join(root, 'resources', 'icon.svg'), 'utf8');
const userDir = fs.mkdtempSync(path.join(os.tmpdir(), 'ferry-icons-'));
const ctx = await chromium.launchPersistentContext(userDir, {
  executablePath: '/usr/bin/chromium',
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run'],
});
try {
  const page = await ctx.newPage();
  const render = async (size: number, out: string) => {
    await page.setViewportSize({ width: size, height: size });
    await page.setContent(
      `<html><body style="margin:0;background:transparent">${svg.replace(/width="\d+" height="\d+"/, `width="${size}" height="${size}"`)}</body></html>`,
    );
    fs.mkdirSync(path.dirname(out), { recursive: true });
    await page.screenshot({
      path: out,
      omitBackground: true,
      clip: { x: 0, y: 0, width: size, height: size },
    });
  };
  await render(1024, path.join(root, 'build', 'icon.png'));
  await render(512, path.join(root, 'resources', 'icon.png'));
  for (const s of [16, 32, 48, 64, 128, 256, 512])
    await render(s, path.join(root, 'build', 'icons', `${s}x${s}.png`));
} finally {
  await ctx.close();
  fs.rmSync(userDir, { recursive: true, force: true });
}
