/*
 * The plugin's views in a real browser: the Storybook build (plugin/storybook-static, `npm run
 * storybook-build`) served on 127.0.0.1, each story opened in Chromium (Debian's /usr/bin/chromium,
 * driven by playwright-core), and what a person sees asserted: rows, phases and messages, the
 * disabled actions and their reasons, a Secret's undo record without values. Every story fails on a
 * page error and on Headlamp's `Plugin execution error in` console message. A screenshot of each goes
 * to docs/images/plugin/<story>.png.
 *
 *   node --test browser/stories.browser.mjs        (from plugin/; `make test-plugin-browser` builds first)
 *
 * Not named *.test.mjs: vitest (`npm test`) would collect it. CHROMIUM=/path/to/chromium picks another
 * browser; SCREENSHOTS=0 takes none, SCREENSHOT_DIR=DIR puts them elsewhere.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import { after, before, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = path.dirname(fileURLToPath(import.meta.url));
const STATIC = path.resolve(here, '..', 'storybook-static');
const SHOTS =
  process.env.SCREENSHOT_DIR || path.resolve(here, '..', '..', 'docs', 'images', 'plugin');
const EXECUTABLE = process.env.CHROMIUM || '/usr/bin/chromium';
const TAKE_SHOTS = process.env.SCREENSHOTS !== '0';
// The time the bodies were read from the API server (src/stories/apiserver.ts) plus a few minutes: the
// ages and dates shown are the same on every run, and so are the screenshots.
const NOW = new Date('2026-12-07T15:55:00Z');

const TYPES = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.mjs': 'text/javascript; charset=utf-8',
  '.json': 'application/json',
  '.css': 'text/css',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.woff2': 'font/woff2',
  '.woff': 'font/woff',
  '.ttf': 'font/ttf',
  '.map': 'application/json',
  '.txt': 'text/plain; charset=utf-8',
};

/** A static file server for storybook-static, on a free port of 127.0.0.1. */
function serve(root) {
  const server = http.createServer((req, res) => {
    let rel = decodeURIComponent(new URL(req.url, 'http://127.0.0.1').pathname);
    if (rel.endsWith('/')) {
      rel += 'index.html';
    }
    const file = path.join(root, rel);
    if (!file.startsWith(root + path.sep) || !fs.existsSync(file) || !fs.statSync(file).isFile()) {
      res.writeHead(404, { 'content-type': 'text/plain' });
      res.end('not found');
      return;
    }
    res.writeHead(200, {
      'content-type': TYPES[path.extname(file)] || 'application/octet-stream',
      'cache-control': 'no-store',
    });
    fs.createReadStream(file).pipe(res);
  });
  return new Promise(resolve => server.listen(0, '127.0.0.1', () => resolve(server)));
}

let server;
let base;
let browser;

before(async () => {
  assert.ok(
    fs.existsSync(path.join(STATIC, 'iframe.html')),
    `${STATIC} has no Storybook build: run npm run storybook-build first`
  );
  server = await serve(STATIC);
  base = `http://127.0.0.1:${server.address().port}`;
  browser = await chromium.launch({ executablePath: EXECUTABLE, args: ['--no-sandbox'] });
  if (TAKE_SHOTS) {
    fs.mkdirSync(SHOTS, { recursive: true });
  }
});

after(async () => {
  await browser?.close();
  await new Promise(resolve => (server ? server.close(resolve) : resolve()));
});

/**
 * Opens a story as a person would see it (its iframe, 1280x800), waits for `ready` (a text that
 * shows once the data is in), runs `check(page, root)`, and takes the screenshot: of the top of the
 * page, or scrolled so that the text `shot.scrollTo` ends the view, or while hovering the disabled
 * action `shot.hover` (its tooltip shown). Fails on a page error and on a console message
 * `Plugin execution error in` (what Headlamp prints when a plugin throws).
 */
async function story(id, ready, check, shot = {}) {
  const context = await browser.newContext({ viewport: { width: 1280, height: 800 } });
  const page = await context.newPage();
  await page.clock.setFixedTime(NOW);
  const problems = [];
  page.on('pageerror', error => problems.push(`page error: ${error.message}`));
  page.on('console', message => {
    if (message.text().includes('Plugin execution error in')) {
      problems.push(`console: ${message.text()}`);
    }
  });
  try {
    await page.goto(`${base}/iframe.html?id=${id}&viewMode=story`);
    const root = page.locator('#storybook-root');
    await root.getByText(ready, { exact: false }).first().waitFor({ timeout: 20000 });
    // Let the access reviews and the second requests (Headlamp's forward list, events) answer.
    await page.waitForLoadState('networkidle').catch(() => {});
    await check(page, root);
    if (TAKE_SHOTS) {
      await page.mouse.move(0, 0);
      if (shot.scrollTo) {
        const end = root.getByText(shot.scrollTo, { exact: true }).last();
        await end.evaluate(e => e.scrollIntoView({ block: 'end' }));
      }
      if (shot.hover) {
        await root
          .getByRole('button', { name: shot.hover, exact: true })
          .locator('xpath=..')
          .hover();
        await page.getByRole('tooltip').waitFor();
      }
      await page.waitForTimeout(400); // transitions (a tooltip's fade) end
      await page.screenshot({ path: path.join(SHOTS, `${id}.png`) });
    }
    assert.deepEqual(problems, [], `${id}: errors in the page`);
  } finally {
    await context.close();
  }
}

/** The cells of the table row that holds `text`. */
async function rowCells(root, text) {
  const row = root.getByRole('row').filter({ hasText: text }).first();
  return (await row.getByRole('cell').allInnerTexts()).map(t => t.trim());
}

/** The value of a NameValueTable row (Headlamp's details grid): the text beside `name`. */
async function field(root, name) {
  const label = root.getByText(name, { exact: true }).first();
  const value = label.locator('xpath=following-sibling::*[1]');
  return (await value.innerText()).trim();
}

/** Hovers the disabled action `name` and returns its tooltip. */
async function disabledReason(page, root, name) {
  const button = root.getByRole('button', { name, exact: true });
  await button.waitFor();
  assert.equal(await button.isDisabled(), true, `${name} should be disabled`);
  await button.locator('xpath=..').hover();
  const tooltip = page.getByRole('tooltip');
  await tooltip.waitFor();
  const reason = (await tooltip.innerText()).trim();
  await page.mouse.move(0, 0);
  await tooltip.waitFor({ state: 'detached' });
  return reason;
}

test('PortForward list: one row per resource, the kubectl get columns', () =>
  story('portforward--list', 'grafana-stopped', async (page, root) => {
    const headers = (await root.getByRole('columnheader').allInnerTexts()).map(h => h.trim());
    for (const h of [
      'Name',
      'Namespace',
      'Target',
      'Local port',
      'Pod',
      'Ready',
      'Status',
      'Age',
    ]) {
      assert.ok(
        headers.some(x => x.startsWith(h)),
        `column ${h} in ${headers}`
      );
    }
    const grafana = await rowCells(root, 'forwarding localhost:18080');
    assert.ok(grafana.includes('grafana'), grafana.join('|'));
    assert.ok(grafana.includes('service monitoring/grafana:http'), grafana.join('|'));
    assert.ok(
      grafana.includes('18080') && grafana.includes('grafana-0') && grafana.includes('True')
    );
    const redis = await rowCells(root, 'pod monitoring/redis-0:6379');
    assert.ok(redis.includes('False'), redis.join('|'));
    assert.ok(
      redis.some(c => c.startsWith('pod monitoring/redis-0 does not exist')),
      redis.join('|')
    );
    const stopped = await rowCells(root, 'grafana-stopped');
    assert.ok(
      stopped.some(c => c.includes('is stopped')),
      stopped.join('|')
    );
  }));

test('a Running PortForward: its status, Headlamp forward entry and the localhost link', () =>
  story(
    'portforward--running',
    "Headlamp's forward",
    async (page, root) => {
      assert.equal(await field(root, 'Phase'), 'Running');
      assert.equal(
        await field(root, 'Message'),
        'forwarding localhost:18080 -> monitoring/grafana-0:3000'
      );
      assert.equal(await field(root, 'Target'), 'service monitoring/grafana:http');
      const link = root.getByRole('link', { name: 'http://localhost:18080' });
      await link.waitFor();
      assert.equal(await link.getAttribute('href'), 'http://localhost:18080');
      // The entry of Headlamp's own list (GET /clusters/real/portforward/list), joined by id.
      const entry = await root.innerText();
      assert.match(
        entry,
        /Headlamp's forward[\s\S]*0932cbe6-5145-4ebe-9208-abea36e49b9c[\s\S]*Running/
      );
      for (const name of ['Stop', 'Retry now', 'Delete']) {
        assert.equal(await root.getByRole('button', { name }).isDisabled(), false, name);
      }
      await root.getByText('Conditions').first().waitFor();
    },
    { scrollTo: 'http://localhost:18080' }
  ));

test('a Failed PortForward: its phase, reason and message', () =>
  story('portforward--failed', 'does not exist', async (page, root) => {
    assert.equal(await field(root, 'Phase'), 'Failed');
    assert.equal(await field(root, 'Reason'), 'NotFound');
    assert.match(
      await field(root, 'Message'),
      /^pod monitoring\/redis-0 does not exist: check spec.pod and spec.namespace/
    );
    assert.equal(await root.getByRole('link', { name: /^http:\/\/localhost/ }).count(), 0);
  }));

test('a Stopped PortForward: Start instead of Stop, no link', () =>
  story('portforward--stopped', 'is stopped', async (page, root) => {
    assert.equal(await field(root, 'Phase'), 'Stopped');
    assert.equal(await field(root, 'State'), 'Stopped');
    await root.getByRole('button', { name: 'Start' }).waitFor();
    assert.equal(await root.getByRole('button', { name: 'Stop', exact: true }).count(), 0);
    assert.equal(await root.getByRole('link', { name: /^http:\/\/localhost/ }).count(), 0);
  }));

test('RBAC: the actions a user may not take are disabled, with the reason', () =>
  story(
    'portforward--forbidden-actions',
    "Headlamp's forward",
    async (page, root) => {
      assert.equal(
        await disabledReason(page, root, 'Stop'),
        'Your Kubernetes user may not patch portforwards "grafana" in namespace "demo" (RBAC)'
      );
      assert.equal(
        await disabledReason(page, root, 'Delete'),
        'Your Kubernetes user may not delete portforwards "grafana" in namespace "demo" (RBAC)'
      );
    },
    { hover: 'Stop' }
  ));

test('ResourcePatch list: target, type, dry-run, ready and the message', () =>
  story('resourcepatch--list', 'web-replicas-invalid', async (page, root) => {
    const preview = await rowCells(root, 'web-preview');
    assert.ok(
      preview.includes('Deployment shop/web') && preview.includes('true'),
      preview.join('|')
    );
    assert.ok(
      preview.some(c => c.startsWith('would change 2 fields')),
      preview.join('|')
    );
    const secret = await rowCells(root, 'rotate-password');
    assert.ok(secret.includes('Secret demo/db') && secret.includes('merge'), secret.join('|'));
    const failed = await rowCells(root, 'web-replicas-invalid');
    assert.ok(failed.includes('False'), failed.join('|'));
    assert.ok(
      failed.some(c => c.includes('spec.replicas: Invalid value: -1')),
      failed.join('|')
    );
  }));

test('an Applied Secret patch: drift corrections, and an undo record with no value', () =>
  story(
    'resourcepatch--applied-with-drift-and-undo',
    'Undo record',
    async (page, root) => {
      assert.equal(await field(root, 'Phase'), 'Applied');
      assert.equal(await field(root, 'Drift corrections'), '1 (last 2026-12-07T15:46:20Z)');
      const undo = await rowCells(root, '/data/password');
      assert.deepEqual(undo, [
        '/data/password',
        'see Secret',
        'kept in Secret rotate-password-revert-tfqq5',
      ]);
      const text = await root.innerText();
      // The Secret's values (before, by hand, after) and the digests of the record never show.
      for (const value of ['s3cr3t', 'changed-by-hand', 'sha256:52874a4a']) {
        assert.ok(!text.includes(value), `${value} shown`);
      }
    },
    { scrollTo: '/data/password' }
  ));

test('an Applied Deployment patch: its undo record with the prior values', () =>
  story(
    'resourcepatch--undo-record',
    'Undo record',
    async (page, root) => {
      assert.deepEqual(await rowCells(root, '/spec/replicas'), ['/spec/replicas', 'yes', '3']);
      assert.deepEqual(await rowCells(root, '/metadata/labels/example.com~1load-test'), [
        '/metadata/labels/example.com~1load-test',
        'no',
        'none (the undo removes the path)',
      ]);
    },
    { scrollTo: '/spec/replicas' }
  ));

test('a Previewed patch: status.preview, and Apply', () =>
  story(
    'resourcepatch--previewed',
    'Preview (dryRun',
    async (page, root) => {
      assert.equal(await field(root, 'Phase'), 'Previewed');
      assert.deepEqual(await rowCells(root, '/spec/replicas'), ['/spec/replicas', '3', '5']);
      assert.deepEqual(await rowCells(root, '/metadata/labels/tier'), [
        '/metadata/labels/tier',
        '(absent)',
        '"frontend"',
      ]);
      assert.equal(await root.getByRole('button', { name: 'Apply' }).isDisabled(), false);
    },
    { scrollTo: '/spec/replicas' }
  ));

test('a Failed patch: the API server refusal as its message', () =>
  story('resourcepatch--failed', 'InvalidSpec', async (page, root) => {
    assert.equal(await field(root, 'Phase'), 'Failed');
    assert.match(
      await field(root, 'Message'),
      /spec\.replicas: Invalid value: -1: must be greater than or equal to 0/
    );
  }));

test('RBAC: Apply of a preview disabled, with the reason', () =>
  story(
    'resourcepatch--forbidden-apply',
    'Preview (dryRun',
    async (page, root) => {
      assert.equal(
        await disabledReason(page, root, 'Apply'),
        'Your Kubernetes user may not patch resourcepatches "web-preview" in namespace "demo" (RBAC)'
      );
    },
    { hover: 'Apply' }
  ));

test('no CRDs: each list says so and how to install them', async () => {
  for (const [id, plural] of [
    ['crd-missing--port-forwards', 'portforwards'],
    ['crd-missing--resource-patches', 'resourcepatches'],
  ]) {
    await story(id, 'is not installed in this cluster', async (page, root) => {
      await root
        .getByText(`The ${plural}.headlamp-operator.dev CRD is not installed in this cluster`)
        .waitFor();
      assert.match(await root.innerText(), /kubectl apply -k manifests\//);
      assert.equal(await root.getByRole('row').count(), 0);
    });
  }
});
