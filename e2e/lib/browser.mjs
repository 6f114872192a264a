// Headless Debian Chromium through playwright-core, in a throwaway profile.
// Never lets Playwright download a browser of its own.

import { chromium } from 'playwright-core';
import { mkdtemp, mkdir, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { repoRoot } from './server.mjs';

export const artifactsDir = path.join(repoRoot, 'e2e', 'artifacts');

/**
 * Flags a test that streams over loopback WebRTC adds: gather a 127.0.0.1
 * candidate (not only an mDNS name) and play video without a gesture.
 */
export const LOOPBACK_WEBRTC_ARGS = [
  '--allow-loopback-in-peer-connection',
  '--disable-features=WebRtcHideLocalIpsWithMdns',
  '--autoplay-policy=no-user-gesture-required',
];

/** Launches Chromium with the default flags and `extraArgs`; resolves to `{ context, close }`. */
export async function launchBrowser({ extraArgs = [] } = {}) {
  const profile = await mkdtemp(path.join(tmpdir(), 'tether-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: process.env.TETHER_CHROMIUM ?? '/usr/bin/chromium',
    headless: true,
    viewport: { width: 1366, height: 820 },
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-quic',
      '--no-first-run',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      ...extraArgs,
    ],
  });
  context.setDefaultTimeout(15_000);
  const close = async () => {
    await context.close();
    await rm(profile, { recursive: true, force: true });
  };
  return { context, close };
}

/**
 * Collects uncaught page errors (a Rust panic shows up as one) and console
 * errors other than failed requests the test provoked on purpose.
 */
export function watchPageErrors(page) {
  const errors = [];
  page.on('pageerror', (error) => errors.push(`pageerror: ${error.message}`));
  page.on('console', (message) => {
    if (message.type() !== 'error') return;
    const text = message.text();
    // The browser logs every 4xx response; those are expected answers here.
    if (/Failed to load resource: the server responded with a status of 4\d\d/.test(text)) return;
    errors.push(`console.error: ${text}`);
  });
  return errors;
}

/** Saves a full-page screenshot as `artifacts/<name>.png`; returns its path. */
export async function screenshot(page, name) {
  await mkdir(artifactsDir, { recursive: true });
  const file = path.join(artifactsDir, `${name.replace(/[^a-z0-9-]+/gi, '-')}.png`);
  await page.screenshot({ path: file, fullPage: true });
  return file;
}
