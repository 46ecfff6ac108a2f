import { mkdir } from 'node:fs/promises';
import path from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startHttpServer, type HttpServer, type HttpServerOptions } from '../../controller/http/start-http-server.js';
import { createFakeDaemon, createNodeView, type FakeDaemon } from './create-fake-daemon.js';

// Debian's chromium, installed by the global setup; playwright-core brings no browser of its own.
const CHROMIUM = '/usr/bin/chromium';
const CHROMIUM_ARGS = ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'];
const OUTPUT = path.resolve(import.meta.dirname, '../../test-output');
// Bounds for waits in the page: generous for a loaded 2-core machine, never a timing assertion.
const WAIT = 15_000;

/** The few browser globals the page functions use (the project's TypeScript lib has no DOM). */
interface BrowserGlobals {
  getComputedStyle(element: unknown): { backgroundColor: string };
  pwned?: number;
}

let browser: Browser;
const servers: HttpServer[] = [];
const pages: Page[] = [];

beforeAll(async () => {
  browser = await chromium.launch({ executablePath: CHROMIUM, args: CHROMIUM_ARGS, timeout: 60_000 });
});

afterEach(async () => {
  await Promise.all(pages.splice(0).map((p) => p.close()));
  await Promise.all(servers.splice(0).map((s) => s.close()));
});

afterAll(async () => {
  await browser?.close();
});

/** Start a server over `daemon` and open the dashboard, collecting page errors. */
async function openDashboard(daemon: FakeDaemon, setup?: (page: Page) => Promise<unknown>, overrides: Partial<HttpServerOptions> = {}): Promise<{ page: Page; errors: string[]; server: HttpServer }> {
  const server = await startHttpServer(daemon.options(overrides));
  servers.push(server);
  const page = await browser.newPage({ viewport: { width: 1280, height: 900 } });
  pages.push(page);
  page.setDefaultTimeout(WAIT);
  const errors: string[] = [];
  page.on('pageerror', (err) => errors.push(err.message));
  page.on('console', (msg) => {
    // the favicon request is the browser's, not the page's; anything else is a page problem
    if (msg.type() === 'error' && !/favicon/.test(msg.location().url)) errors.push(msg.text());
  });
  await setup?.(page);
  await page.goto(`${server.url}/`);
  return { page, errors, server };
}

/** The `data-status` of a node's row. */
function nodeStatus(page: Page, node: string): Promise<string | null> {
  return page.locator(`[data-node="${node}"]`).getAttribute('data-status');
}

describe('dashboard page', () => {
  it('shows nodes by role and follows a status change over the event stream', async () => {
    const daemon = createFakeDaemon();
    const { page, errors } = await openDashboard(daemon);
    await page.waitForSelector('[data-node="edge-1"][data-status="pending_sync"]');
    await expect(page.title()).resolves.toBe('courier');

    const headings = await page.locator('#nodes h2').allTextContents();
    expect(headings).toEqual(['Management laptops (2)', 'VPS edge nodes (3)', 'Worker nodes (3)']);
    const edge = page.locator('[data-node="edge-1"]');
    await expect(edge.textContent()).resolves.toContain('behind');
    await expect(edge.textContent()).resolves.toContain('CONNECTION_LOST');
    await expect(page.locator('#revision').textContent()).resolves.toBe(daemon.status.revision!.slice(0, 12));
    await page.waitForSelector(`#revisions [data-revision="${daemon.revisions[0]!.revision}"]`);
    // the event stream is up once the page says so; only then is a signal sure to reach it
    await page.waitForSelector('#connection.live');
    await mkdir(OUTPUT, { recursive: true });
    await page.screenshot({ path: path.join(OUTPUT, 'dashboard.png'), fullPage: true });

    daemon.updateNode('edge-1', { status: 'active', failures: 0, last_error: null, revision: daemon.status.revision, current: true, last_sync: new Date().toISOString() });
    await page.waitForSelector('[data-node="edge-1"][data-status="active"]');
    await expect(edge.textContent()).resolves.not.toContain('behind');
    expect(errors).toEqual([]);
  });

  it('falls back to polling /api/status when the event stream cannot connect', async () => {
    const daemon = createFakeDaemon();
    const { page } = await openDashboard(daemon, (p) => p.route('**/api/events', (route) => route.abort()));
    await page.waitForSelector('[data-node="edge-1"][data-status="pending_sync"]');
    await page.waitForSelector('#connection.polling');
    // no listener can reach the page now: only a poll brings the change
    daemon.status = { ...daemon.status, nodes: daemon.status.nodes.map((n) => (n.node === 'edge-1' ? { ...n, status: 'error' as const } : n)) };
    await expect.poll(() => nodeStatus(page, 'edge-1'), { timeout: WAIT, interval: 250 }).toBe('error');
  });

  it('shows an invalid registry in a red banner and renders registry strings as text, never markup', async () => {
    const daemon = createFakeDaemon();
    const hostile = '<img src=x onerror="window.pwned=1"><b>bold</b>';
    daemon.status = {
      ...daemon.status,
      registryValid: false,
      registryError: `registry/services.json: $.immich.port: 70000 is not a port (1-65535) ${hostile}`,
      nodes: [createNodeView({ node: 'edge-9', role: 'vps', status: 'error', failures: 5, last_error: { code: 'AGENT_FAILED', message: hostile } })],
    };
    const { page, errors } = await openDashboard(daemon);
    await page.waitForSelector('#registry[data-valid="false"]');
    await expect(page.locator('#registry pre').textContent()).resolves.toBe(daemon.status.registryError);
    const background = await page.locator('#registry').evaluate((el) => (globalThis as unknown as BrowserGlobals).getComputedStyle(el).backgroundColor);
    const [r, g, b] = (background.match(/\d+/g) ?? []).map(Number);
    expect(r).toBeGreaterThan(g!);
    expect(r).toBeGreaterThan(b!);
    await expect(page.locator('[data-node="edge-9"]').textContent()).resolves.toContain(hostile);
    expect(await page.locator('#registry img, #registry b, [data-node] img, [data-node] b').count()).toBe(0);
    expect(await page.evaluate(() => (globalThis as unknown as BrowserGlobals).pwned)).toBeUndefined();
    await mkdir(OUTPUT, { recursive: true });
    await page.screenshot({ path: path.join(OUTPUT, 'dashboard-invalid.png') });
    expect(errors).toEqual([]);
  });

  it('starts a reconcile from the button and shows the answer', async () => {
    const daemon = createFakeDaemon();
    const { page } = await openDashboard(daemon);
    await page.click('#reconcile');
    await expect.poll(() => page.locator('#reconcile-result').textContent(), { timeout: WAIT, interval: 100 }).toBe('reconcile started');
    expect(daemon.reconcileCalls).toBe(1);
    daemon.reconcileAnswer = { accepted: false, reason: 'not the leader' };
    await page.click('#reconcile');
    await expect.poll(() => page.locator('#reconcile-result').textContent(), { timeout: WAIT, interval: 100 }).toBe('not started: not the leader');
  });

  it('with a token asks for it once, keeps it in the tab session and sends it with every request', async () => {
    const token = 'dashboard-token-0123456789abcdef';
    const daemon = createFakeDaemon();
    const authorizations: (string | undefined)[] = [];
    const { page, errors, server } = await openDashboard(
      daemon,
      async (p) => p.on('request', (r) => r.url().includes('/api/') && authorizations.push(r.headers().authorization)),
      { token },
    );
    // the page holds no data until the token is given
    await page.waitForSelector('#login:not([hidden])');
    await expect(page.locator('#connection').textContent()).resolves.toBe('token needed');
    expect(await page.locator('[data-node]').count()).toBe(0);

    await page.fill('#token', 'not-the-token-0000000000');
    await page.click('#login button[type="submit"]');
    await expect.poll(() => page.locator('#login-error').textContent(), { timeout: WAIT, interval: 100 }).toBe('The token was not accepted.');
    expect(await page.evaluate(() => (globalThis as unknown as { sessionStorage: { getItem(k: string): string | null } }).sessionStorage.getItem('courier-token'))).toBeNull();

    await page.fill('#token', token);
    await page.click('#login button[type="submit"]');
    await page.waitForSelector('[data-node="edge-1"][data-status="pending_sync"]');
    await page.waitForSelector('#login[hidden]', { state: 'attached' });
    // the event stream carries the token too: a status change arrives live
    await page.waitForSelector('#connection.live');
    daemon.updateNode('edge-1', { status: 'active', failures: 0, last_error: null });
    await page.waitForSelector('[data-node="edge-1"][data-status="active"]');
    await page.click('#reconcile');
    await expect.poll(() => page.locator('#reconcile-result').textContent(), { timeout: WAIT, interval: 100 }).toBe('reconcile started');
    expect(authorizations).toContain(`Bearer ${token}`);

    // a reload in the same tab does not ask again
    await page.reload();
    await page.waitForSelector('[data-node="edge-1"]');
    expect(await page.locator('#login').getAttribute('hidden')).not.toBeNull();

    // a new browser session asks again: the token was in sessionStorage, not in a cookie or localStorage
    const other = await browser.newPage();
    pages.push(other);
    await other.goto(`${server.url}/`);
    await other.waitForSelector('#login:not([hidden])', { timeout: WAIT });
    expect(errors.filter((e) => !/401/.test(e))).toEqual([]);
  });
});
