/**
 * A real browser for the pages bodycam serves: Debian's chromium-headless-shell driven by puppeteer-core, and the
 * docs' screenshots (docs/img/<name>.png), written only with BODYCAM_SCREENSHOTS=1.
 */
import { writeFileSync } from 'node:fs';
import path from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';
import { which } from './tools.ts';

export const BROWSER = 'chromium-headless-shell';

/** Whether the browser is installed (a test without it is skipped, naming it: itWith(BROWSER)). */
export const browserReady = (): boolean => which(BROWSER) !== null;

export function launchBrowser(args: readonly string[] = []): Promise<Browser> {
  return puppeteer.launch({
    executablePath: which(BROWSER) ?? '',
    headless: 'shell',
    args: ['--no-sandbox', ...args],
  });
}

const SHOTS = process.env['BODYCAM_SCREENSHOTS'] === '1';

/** With BODYCAM_SCREENSHOTS=1, the whole page as docs/img/<name>.png. */
export async function shot(page: Page, name: string): Promise<void> {
  if (!SHOTS) return;
  writeFileSync(
    path.resolve(import.meta.dirname, `../../docs/img/${name}.png`),
    await page.screenshot({ fullPage: true }),
  );
}
