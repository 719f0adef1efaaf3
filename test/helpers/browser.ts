import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import puppeteer, { type Browser, type Page } from 'puppeteer-core';

/** Debian's chromium package (.ci/run installs it); npm cannot download a browser here. */
export const CHROMIUM = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';
export const hasChromium = () => existsSync(CHROMIUM);

export interface TestBrowser {
  browser: Browser;
  /** A new page whose requests to anything but the loopback are refused and recorded. */
  page(): Promise<Page>;
  /** Requests refused because they left the machine (should stay empty). */
  blocked: string[];
  /** Uncaught page errors and console errors, CSP violations included. */
  errors: string[];
  close(): Promise<void>;
}

const LOOPBACK = new Set(['127.0.0.1', 'localhost', '[::1]']);

export async function launchBrowser(): Promise<TestBrowser> {
  const profile = mkdtempSync(join(tmpdir(), 'hookline-chromium-'));
  // Without the background-networking flags Chromium dials Google's services at start.
  const browser = await puppeteer.launch({
    executablePath: CHROMIUM,
    args: [
      '--headless',
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      `--user-data-dir=${profile}`,
    ],
    protocolTimeout: 60_000,
  });
  const blocked: string[] = [];
  const errors: string[] = [];
  return {
    browser,
    blocked,
    errors,
    async page() {
      const page = await browser.newPage();
      page.setDefaultTimeout(20_000);
      await page.setViewport({ width: 1280, height: 860 });
      await page.setRequestInterception(true);
      page.on('request', (request) => {
        const url = new URL(request.url());
        if (['data:', 'blob:'].includes(url.protocol) || LOOPBACK.has(url.hostname)) {
          void request.continue();
        } else {
          blocked.push(request.url());
          void request.abort('blockedbyclient');
        }
      });
      page.on('pageerror', (error) => errors.push(`pageerror: ${(error as Error).message}`));
      page.on('console', (message) => {
        if (message.type() === 'error') errors.push(`console: ${message.text()}`);
      });
      return page;
    },
    async close() {
      await browser.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}

/** Waits until `selector` shows `text` (bounded), and returns its text. */
export async function textOf(
  page: Page,
  selector: string,
  text: RegExp,
  timeoutMs = 20_000,
): Promise<string> {
  await page.waitForFunction(
    (sel, source, flags) => new RegExp(source, flags).test(document.querySelector(sel)?.textContent ?? ''),
    { timeout: timeoutMs },
    selector,
    text.source,
    text.flags,
  );
  return page.$eval(selector, (el) => el.textContent ?? '');
}
