/**
 * The dashboard of a real daemon in headless Chromium: a node whose sshd is down shows as
 * pending_sync, and turns active on the page by itself once the node is back.
 */
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packagePath } from '../../controller/package-root.js';
import { startSshdFleet, type SshdFleet } from '../support/sshd-fleet.js';
import { createDaemonSite, startDaemonProcess, type DaemonProcess } from './daemon-site.js';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const WAIT = 60_000;

describe('daemon dashboard', () => {
  let fleet: SshdFleet;
  let daemon: DaemonProcess;
  let browser: Browser;

  beforeAll(async () => {
    fleet = await startSshdFleet(3);
    await fleet.stop(2);
    const site = createDaemonSite(fleet, ['vps', 'laptop', 'worker']);
    daemon = await startDaemonProcess(site.config);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, timeout: 60_000 });
  });

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop('SIGKILL');
    await fleet?.stopAll();
  });

  it('shows a node turning from pending to active', async () => {
    const page = await browser.newPage({ viewport: { width: 1200, height: 800 } });
    await page.goto(`${daemon.url}/`);
    await page.waitForSelector('[data-node="node-2"][data-status="pending_sync"]', { timeout: WAIT });
    await page.waitForSelector('[data-node="node-0"][data-status="active"]', { timeout: WAIT });
    await fleet.start(2);
    // the daemon's backoff retry catches the node up; the page follows over server-sent events
    await page.waitForSelector('[data-node="node-2"][data-status="active"]', { timeout: WAIT });
    const out = packagePath('test-output');
    mkdirSync(out, { recursive: true });
    await page.screenshot({ path: path.join(out, 'daemon-dashboard.png'), fullPage: true });
    expect(await page.locator('[data-status="active"]').count()).toBeGreaterThanOrEqual(3);
    await page.close();
  });
});
