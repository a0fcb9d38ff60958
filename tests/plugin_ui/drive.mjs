// Drives the real Headlamp web UI, with this project's plugin loaded, in headless Chromium, and prints what a
// person sees there as one JSON object on stdout (tests/plugin_ui/test_plugin_ui.py asserts on it).
//
//   node tests/plugin_ui/drive.mjs --url http://127.0.0.1:PORT --cluster real --namespace NS \
//     --forward NAME --failing NAME --applied NAME --screenshots DIR
//
// playwright-core is the plugin's (plugin/node_modules, `npm ci` in plugin/); the browser is the system's
// Chromium ($CHROMIUM, default /usr/bin/chromium), since none can be downloaded here. Steps:
//   1. the plugin's PortForward list: the declared forward's row (Ready, local port, status);
//   2. its details: phase, state, forward id, and Headlamp's own forward joined by that id (its section too);
//   3. Stop clicked (a confirmation dialog confirmed if there is one), then the page showing it stopped;
//   4. the plugin's ResourcePatch list: the failing patch's row with its message, the applied one's.
// Every console message and page error is kept: a plugin that throws while loading only logs
// `Plugin execution error in <name>`, so the test fails on that message. Exit code 0 when every step ran,
// 1 when one failed (the JSON then says which, with a screenshot ui-failure.png).
import { mkdirSync } from 'node:fs';
import { createRequire } from 'node:module';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const here = dirname(fileURLToPath(import.meta.url));
const require = createRequire(resolve(here, '../../plugin/package.json'));
const { chromium } = require('playwright-core');

const { values: args } = parseArgs({
  options: {
    url: { type: 'string' },
    cluster: { type: 'string' },
    namespace: { type: 'string' },
    forward: { type: 'string' },
    failing: { type: 'string' },
    applied: { type: 'string' },
    screenshots: { type: 'string' },
    timeout: { type: 'string', default: '60' },
  },
});
for (const name of [
  'url',
  'cluster',
  'namespace',
  'forward',
  'failing',
  'applied',
  'screenshots',
]) {
  if (!args[name]) {
    console.error(`drive.mjs: --${name} is required`);
    process.exit(2);
  }
}
const TIMEOUT = Number(args.timeout) * 1000;
const base = `${args.url.replace(/\/$/, '')}/c/${args.cluster}`;
mkdirSync(args.screenshots, { recursive: true });

const observed = { steps: [], console: [], pageErrors: [], screenshots: [] };

/** Text lines of an element, trimmed, without the empty ones. */
function lines(text) {
  return text
    .split('\n')
    .map(line => line.trim())
    .filter(line => line && line !== '\u200b');
}

/** The value after `label` in the lines of a NameValueTable (the first such label from `from`). */
function valueOf(textLines, label, from = 0) {
  const at = textLines.indexOf(label, from);
  return at < 0 ? null : textLines[at + 1] ?? null;
}

/** The lines of the page's main area between two headings (end excluded; to the end without one). */
function section(textLines, start, end) {
  const from = start ? textLines.indexOf(start) : 0;
  if (from < 0) {
    return [];
  }
  const to = end ? textLines.indexOf(end, from + 1) : -1;
  return textLines.slice(from, to < 0 ? undefined : to);
}

async function mainLines(page) {
  return lines(await page.locator('main').innerText());
}

/** Poll `read()` until `accept` takes its result; return it, or throw with the last one seen. */
async function until(what, read, accept, within = TIMEOUT) {
  const deadline = Date.now() + within;
  let last;
  for (;;) {
    try {
      last = await read();
      if (accept(last)) {
        return last;
      }
    } catch (err) {
      last = `error: ${err.message}`;
    }
    if (Date.now() > deadline) {
      throw new Error(`${what}: not within ${within / 1000} s; last seen: ${JSON.stringify(last)}`);
    }
    await new Promise(done => setTimeout(done, 250));
  }
}

/** The cells of a list's row, by column header: the row whose Name cell is `name` in our namespace. */
async function listRow(page, name) {
  const headers = (await page.locator('table thead th').allInnerTexts()).map(
    h => lines(h)[0] || ''
  );
  for (const row of await page.locator('table tbody tr').all()) {
    const cells = (await row.locator('td').allInnerTexts()).map(c => lines(c).join(' '));
    const byHeader = Object.fromEntries(
      headers.map((h, i) => [h, cells[i] ?? '']).filter(([h]) => h)
    );
    if (byHeader.Name === name && byHeader.Namespace === args.namespace) {
      return byHeader;
    }
  }
  return null;
}

async function shot(page, file) {
  const path = join(args.screenshots, file);
  await page.screenshot({ path });
  observed.screenshots.push(file);
}

const browser = await chromium.launch({
  executablePath: process.env.CHROMIUM || '/usr/bin/chromium',
  args: ['--no-sandbox'],
});
const page = await browser.newPage({ viewport: { width: 1280, height: 800 } });
page.setDefaultTimeout(TIMEOUT);
page.on('console', message => {
  if (['error', 'warning'].includes(message.type())) {
    observed.console.push({
      type: message.type(),
      text: message.text(),
      url: message.location()?.url,
    });
  }
});
page.on('pageerror', err => observed.pageErrors.push(err.message));

let step = 'start';
let code = 0;
try {
  // 1. The PortForward list, from the sidebar entry the plugin registers.
  step = 'portforward list';
  await page.goto(`${base}/`);
  const sidebar = page.getByRole('navigation').getByText('Headlamp Operator', { exact: true });
  await sidebar.first().waitFor();
  await page.goto(`${base}/headlamp-operator/portforwards`);
  await page.getByRole('heading', { name: 'PortForwards' }).waitFor();
  const forwardRow = await until(
    `the row of ${args.forward}, Ready True`,
    () => listRow(page, args.forward),
    row => row && row.Ready === 'True'
  );
  await shot(page, 'ui-portforwards.png');
  observed.steps.push({ step, url: page.url(), sidebar: true, row: forwardRow });

  // 2. Its details, reached by its link; Headlamp's own forward joined by id.
  step = 'portforward details';
  await page.getByRole('link', { name: args.forward, exact: true }).click();
  await page.getByText(`PortForward: ${args.forward}`).waitFor();
  const details = await until(
    "the details with Headlamp's forward",
    async () => {
      const text = await mainLines(page);
      const own = section(text, null, 'Conditions');
      const headlamp = section(text, "Headlamp's forward", 'Events');
      return {
        phase: valueOf(own, 'Phase'),
        state: valueOf(own, 'State'),
        forwardId: valueOf(own, 'Forward id'),
        localPort: valueOf(own, 'Local port'),
        message: valueOf(own, 'Message'),
        headlamp: {
          id: valueOf(headlamp, 'ID'),
          status: valueOf(headlamp, 'Status'),
          localPort: valueOf(headlamp, 'Local port'),
          open: valueOf(headlamp, 'Open'),
        },
      };
    },
    d => d.phase === 'Running' && d.headlamp.id !== null && d.headlamp.status === 'Running'
  );
  const buttons = await page
    .locator('main button[aria-label]')
    .evaluateAll(found =>
      found.map(b => ({ label: b.getAttribute('aria-label'), disabled: b.disabled }))
    );
  await shot(page, 'ui-portforward-details.png');
  await page.getByText("Headlamp's forward", { exact: true }).first().scrollIntoViewIfNeeded();
  await shot(page, 'ui-portforward-headlamp-forward.png');
  await page.mouse.wheel(0, -10000); // back to the header, where the actions are
  observed.steps.push({ step, url: page.url(), details, buttons });

  // 3. Stop, from the details' header; confirmed if the UI asks.
  step = 'stop';
  await page.getByRole('button', { name: 'Stop', exact: true }).click();
  const dialog = page.getByRole('dialog');
  let confirmed = null;
  try {
    await dialog.waitFor({ timeout: 1500 });
    const confirm = dialog.getByRole('button', { name: /^(stop|confirm|yes|ok)$/i });
    confirmed = await confirm.first().innerText();
    await confirm.first().click();
  } catch {
    // no dialog: the write went out on the click
  }
  const snackbar = await until(
    'the action said how it went',
    async () =>
      lines(
        await page
          .locator('#notistack-snackbar, [role="alert"]')
          .allInnerTexts()
          .then(t => t.join('\n'))
      ),
    found => found.some(line => line.startsWith(`Stop ${args.forward}`)),
    20000
  ).catch(err => [`(no snackbar seen: ${err.message})`]);
  const stopped = await until(
    'the details showing the forward stopped',
    async () => {
      const text = await mainLines(page);
      const own = section(text, null, 'Conditions');
      const headlamp = section(text, "Headlamp's forward", 'Events');
      return {
        phase: valueOf(own, 'Phase'),
        state: valueOf(own, 'State'),
        message: valueOf(own, 'Message'),
        headlamp: { status: valueOf(headlamp, 'Status'), text: headlamp.slice(1).join(' ') },
      };
    },
    d => d.phase === 'Stopped' && d.state === 'Stopped'
  );
  const startButton = await page.getByRole('button', { name: 'Start', exact: true }).count();
  await shot(page, 'ui-portforward-stopped.png');
  observed.steps.push({ step, confirmed, snackbar, stopped, startButton: startButton > 0 });

  // 4. The ResourcePatch list: the failing one's message, the applied one.
  step = 'resourcepatch list';
  await page.goto(`${base}/headlamp-operator/resourcepatches`);
  await page.getByRole('heading', { name: 'ResourcePatches' }).waitFor();
  const rows = await until(
    'the rows of the failing and the applied patch',
    async () => ({
      failing: await listRow(page, args.failing),
      applied: await listRow(page, args.applied),
    }),
    r => r.failing && r.applied && r.failing.Status && r.applied.Ready === 'True'
  );
  await shot(page, 'ui-resourcepatches.png');
  observed.steps.push({ step, url: page.url(), rows });

  // 5. The failing one's details: phase, reason, message.
  step = 'resourcepatch details';
  await page.getByRole('link', { name: args.failing, exact: true }).click();
  await page.getByText(`ResourcePatch: ${args.failing}`).waitFor();
  const failing = await until(
    'the failing patch details',
    async () => {
      const own = section(await mainLines(page), null, 'Conditions');
      return {
        phase: valueOf(own, 'Phase'),
        reason: valueOf(own, 'Reason'),
        message: valueOf(own, 'Message'),
      };
    },
    d => d.phase === 'Failed'
  );
  await shot(page, 'ui-resourcepatch-failed.png');
  observed.steps.push({ step, url: page.url(), details: failing });
} catch (err) {
  code = 1;
  observed.failed = { step, error: err.message, url: page.url() };
  try {
    await shot(page, 'ui-failure.png');
    observed.failed.text = (await mainLines(page)).slice(0, 200);
  } catch {
    // the page is gone
  }
} finally {
  await browser.close();
}
process.stdout.write(`${JSON.stringify(observed)}\n`);
process.exit(code);
