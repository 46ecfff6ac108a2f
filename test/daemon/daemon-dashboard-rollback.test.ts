/**
 * Rolling back from the dashboard of a real daemon in headless Chromium, against a real sshd fleet:
 * a revision's diff and a node's page open on click; Roll back asks for confirmation, the banner
 * shows the suspension and the nodes converge to the old revision; Resume clears it and the nodes
 * converge to the current registry. Screenshots go to test-output/.
 */
import { mkdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { packagePath } from '../../controller/package-root.js';
import { startSshdFleet, type SshdFleet } from '../support/sshd-fleet.js';
import { createDaemonSite, startDaemonProcess, type DaemonProcess, type DaemonSite } from './daemon-site.js';

const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const WAIT = 30_000;
const POLL = { timeout: WAIT, interval: 100 };

describe('dashboard rollback and resume', () => {
  let fleet: SshdFleet;
  let site: DaemonSite;
  let daemon: DaemonProcess;
  let browser: Browser;
  let page: Page;
  const out = packagePath('test-output');
  const edge = () => readFileSync(site.nodeFile(0, 'traefik'), 'utf8');
  const allCurrent = async (revision: string) => {
    const s = await daemon.status();
    return s.revision === revision && s.nodes.every((n) => n.status === 'active' && n.current);
  };

  beforeAll(async () => {
    mkdirSync(out, { recursive: true });
    fleet = await startSshdFleet(3);
    site = createDaemonSite(fleet, ['vps', 'laptop', 'worker']);
    daemon = await startDaemonProcess(site.config);
    browser = await chromium.launch({ executablePath: '/usr/bin/chromium', args: CHROMIUM_ARGS, timeout: 60_000 });
    page = await browser.newPage({ viewport: { width: 1280, height: 1000 } });
    page.setDefaultTimeout(WAIT);
  });

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop('SIGKILL');
    await fleet?.stopAll();
  });

  it('rolls back from the page, shows the suspension, and resumes', { timeout: 300_000 }, async () => {
    const errors: string[] = [];
    page.on('pageerror', (err) => errors.push(err.message));
    for (let i = 0; i < 600 && (await fetch(`${daemon.url}/readyz`)).status !== 200; i++) await new Promise((r) => setTimeout(r, 100));
    const good = (await daemon.status()).revision!;
    // a registry edit breaks the edge
    // (it changes every node, so every node is pushed and current at it)
    site.writeServices({ ...site.services, app: { ...site.services.app, port: 9999 }, grafana: { ...site.services.grafana, ip: '100.64.0.66' } });
    await expect.poll(() => edge().includes('http://100.64.0.10:9999'), POLL).toBe(true);
    const broken = (await daemon.status()).revision!;
    await expect.poll(() => allCurrent(broken), POLL).toBe(true);

    await page.goto(`${daemon.url}/`);
    await page.waitForSelector(`tr[data-revision="${broken}"]`);
    // a revision's diff
    await page.click(`tr[data-revision="${broken}"] td:first-child`);
    await page.waitForSelector(`#detail[data-revision="${broken}"] pre[data-file="nodes/node-0/traefik.yml"]`);
    expect(await page.locator('#detail pre .added').allTextContents()).toContain('+          - url: "http://100.64.0.10:9999"\n');
    // a node's page
    await page.click('tr[data-node="node-0"] td:first-child');
    await page.waitForSelector('#detail[data-node-detail="node-0"] tr[data-artifact="traefik.yml"]');
    expect(await page.locator('#detail tr[data-artifact="traefik.yml"] td').nth(1).textContent()).toBe('/srv/traefik/routes.yml');
    await page.screenshot({ path: path.join(out, 'dashboard-node-page.png'), fullPage: true });

    // Roll back asks first: dismissing changes nothing
    page.once('dialog', (dialog) => void dialog.dismiss());
    await page.click(`button[data-rollback="${good}"]`);
    expect((await daemon.status()).suspension).toBeNull();
    page.once('dialog', (dialog) => {
      expect(dialog.message()).toContain(`Roll back every node to revision ${good.slice(0, 12)}?`);
      void dialog.accept();
    });
    await page.click(`button[data-rollback="${good}"]`);
    await page.waitForSelector('#suspension[data-suspended="true"] #resume').catch(async (err: unknown) => {
      throw new Error(`no banner; action: ${await page.locator('#action-result').textContent()}; ${(err as Error).message}`);
    });
    await expect.poll(() => edge().includes('http://100.64.0.10:8080'), POLL).toBe(true);
    const pinned = (await daemon.status()).suspension!.revision;
    await expect.poll(() => allCurrent(pinned), POLL).toBe(true);
    await expect.poll(() => page.locator('#revision').textContent(), POLL).toBe(pinned.slice(0, 12));
    await page.waitForSelector('[data-node="node-0"][data-status="active"]');
    expect(await page.locator('#suspension').textContent()).toContain('by dashboard');
    // an edit while suspended shows as waiting on the banner
    site.writeServices({ ...site.services, app: { ...site.services.app, port: 8181 }, grafana: { ...site.services.grafana, ip: '100.64.0.67' } });
    await page.waitForSelector('#suspension li[data-waiting="services.json"]');
    await page.screenshot({ path: path.join(out, 'dashboard-suspended.png'), fullPage: true });
    expect(edge()).toContain('http://100.64.0.10:8080');

    await page.click('#resume');
    await page.waitForSelector('#suspension[data-suspended="false"]', { state: 'attached' });
    await expect.poll(() => edge().includes('http://100.64.0.10:8181'), POLL).toBe(true);
    const current = (await daemon.status()).revision!;
    await expect.poll(() => allCurrent(current), POLL).toBe(true);
    await expect.poll(() => page.locator('#revision').textContent(), POLL).toBe(current.slice(0, 12));
    await page.screenshot({ path: path.join(out, 'dashboard-resumed.png'), fullPage: true });
    expect(errors).toEqual([]);
  });
});
