// Real-browser check of the embedded GraphiQL page. Run through check.sh, which
// starts the server and sets the environment:
//   BROWSER_CHECK_URL         page to load (e.g. http://127.0.0.1:PORT/)
//   BROWSER_CHECK_SCREENSHOT  where to save the screenshot (PNG)
//   BROWSER_CHECK_CHROMIUM    Chromium executable (default /usr/bin/chromium)
//   BROWSER_CHECK_RENDER_ONLY =1: only check that GraphiQL renders (no query);
//                             for testing against a static stand-in, never in CI.
//   BROWSER_CHECK_TIMEOUT_MS  per-step timeout (default 30000)
import { chromium } from 'playwright-core';

const url = process.env.BROWSER_CHECK_URL;
const screenshot = process.env.BROWSER_CHECK_SCREENSHOT || 'browser-check.png';
const executablePath = process.env.BROWSER_CHECK_CHROMIUM || '/usr/bin/chromium';
const renderOnly = process.env.BROWSER_CHECK_RENDER_ONLY === '1';
const timeout = Number(process.env.BROWSER_CHECK_TIMEOUT_MS || 30000);
const EXPECTED = 'Advance the Reform of the IP Management System and Mechanism';
const EXPECTED_TABS = ['Dashboard', 'TasksByHumanKeys', 'TaskWithLeads', 'AgencyTasks', 'SearchTasks', 'RecordProgress', 'FollowChanges', 'ReportingMatrix', 'TaskProgress', 'Rollup', 'Scorecards', 'ReviewQueue', 'Webhooks'];
const LOCAL_HOSTS = new Set(['127.0.0.1', 'localhost', '[::1]']);

if (!url) {
  console.error('check.mjs: BROWSER_CHECK_URL is not set (run tests/browser/check.sh)');
  process.exit(2);
}

const failures = [];
const external = [];
const pageErrors = [];
const consoleErrors = [];
const httpErrors = [];
const fail = (msg) => { failures.push(msg); console.error(`FAIL: ${msg}`); };
const log = (msg) => console.log(`browser-check: ${msg}`);

const isLocal = (u) => {
  try {
    const parsed = new URL(u);
    if (parsed.protocol === 'data:' || parsed.protocol === 'blob:' || parsed.protocol === 'about:') return true;
    return LOCAL_HOSTS.has(parsed.hostname);
  } catch {
    return false;
  }
};

const browser = await chromium.launch({
  executablePath,
  headless: true,
  timeout: 60000,
  args: [
    '--headless',
    '--no-sandbox',
    '--disable-gpu',
    '--disable-dev-shm-usage',
    '--disable-quic',
    '--no-first-run',
    '--no-default-browser-check',
    '--disable-background-networking',
    '--disable-component-update',
    '--disable-sync',
    '--disable-default-apps',
    '--disable-extensions',
    '--disable-domain-reliability',
    '--disable-client-side-phishing-detection',
    '--metrics-recording-only',
    '--disable-features=Translate,OptimizationHints,MediaRouter,AutofillServerCommunication,InterestFeedContentSuggestions',
    // Belt and braces next to the request interception below: no name other than
    // localhost resolves, and anything that is not loopback goes to a dead proxy.
    '--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1, EXCLUDE [::1]',
    '--proxy-server=http://127.0.0.1:9',
    '--proxy-bypass-list=127.0.0.1;localhost;[::1]',
  ],
});

let exitCode = 1;
try {
  const context = await browser.newContext({ viewport: { width: 1400, height: 900 } });
  context.setDefaultTimeout(timeout);

  // Only loopback is allowed; everything else is recorded and aborted.
  await context.route('**/*', async (route) => {
    const reqUrl = route.request().url();
    if (isLocal(reqUrl)) return route.continue();
    external.push(`${route.request().method()} ${reqUrl}`);
    return route.abort('blockedbyclient');
  });
  // Service workers' and other requests the router might not see still show up here.
  context.on('request', (req) => {
    if (!isLocal(req.url())) external.push(`${req.method()} ${req.url()}`);
  });

  const page = await context.newPage();
  page.on('pageerror', (err) => pageErrors.push(String(err && err.stack ? err.stack : err)));
  page.on('console', (msg) => {
    if (msg.type() === 'error') consoleErrors.push(msg.text());
  });
  page.on('response', (res) => {
    const path = new URL(res.url()).pathname;
    if (res.status() < 400 || path === '/favicon.ico' || path.endsWith('.map')) return;
    if (renderOnly && path === '/graphql') return; // the static stand-in has no /graphql
    httpErrors.push(`${res.status()} ${res.request().method()} ${res.url()}`);
  });
  page.on('requestfailed', (req) => {
    if (isLocal(req.url())) {
      const path = new URL(req.url()).pathname;
      if (!(renderOnly && path === '/graphql')) {
        httpErrors.push(`failed ${req.method()} ${req.url()}: ${req.failure()?.errorText}`);
      }
    }
  });

  log(`loading ${url}`);
  const resp = await page.goto(url, { waitUntil: 'load' });
  if (!resp || !resp.ok()) fail(`GET ${url} answered ${resp ? resp.status() : 'nothing'}`);
  const title = await page.title();
  if (title !== 'workplan — GraphiQL') fail(`unexpected page title ${JSON.stringify(title)}`);

  let rendered = false;
  try {
    await page.locator('.graphiql-container').waitFor({ state: 'visible' });
    await page.locator('.graphiql-query-editor .CodeMirror').first().waitFor({ state: 'visible' });
    await page.locator('.graphiql-execute-button').waitFor({ state: 'visible' });
    rendered = true;
    log('GraphiQL rendered (container, query editor and execute button visible)');
  } catch (e) {
    fail(`GraphiQL did not render within ${timeout} ms: ${e.message.split('\n')[0]}`);
  }

  if (rendered) {
    const tabTitles = (await page.locator('.graphiql-tab').allInnerTexts()).map((t) => t.trim());
    log(`tabs: ${JSON.stringify(tabTitles)}`);
    for (const t of EXPECTED_TABS) {
      if (!tabTitles.some((x) => x.includes(t))) fail(`example tab ${t} is missing (tabs: ${JSON.stringify(tabTitles)})`);
    }
    const queryText = await page.evaluate(() => {
      const cm = document.querySelector('.graphiql-query-editor .CodeMirror');
      return cm && cm.CodeMirror ? cm.CodeMirror.getValue() : (cm ? cm.textContent : '');
    });
    if (!queryText.includes('query Dashboard')) {
      fail(`the active tab is not "Dashboard"; query editor holds: ${queryText.slice(0, 200)}`);
    }
  }

  if (rendered && !renderOnly) {
    log('running the active tab (Dashboard: the whole plan in one query)');
    await page.locator('.graphiql-execute-button').click();
    const readResult = () => page.evaluate(() => {
      const cm = document.querySelector('.result-window .CodeMirror');
      if (cm && cm.CodeMirror) return cm.CodeMirror.getValue();
      const el = document.querySelector('.result-window');
      return el ? el.textContent : '';
    });
    const deadline = Date.now() + timeout;
    let result = '';
    while (Date.now() < deadline) {
      result = await readResult();
      if (result.includes(EXPECTED)) break;
      await page.waitForTimeout(250);
    }
    if (result.includes(EXPECTED)) {
      log(`result pane contains ${JSON.stringify(EXPECTED)}`);
    } else {
      fail(`result pane did not contain ${JSON.stringify(EXPECTED)} within ${timeout} ms; it holds:\n${result.slice(0, 2000) || '(empty)'}`);
    }
    // The Live tab: a subscription, which GraphiQL runs over the WebSocket at /graphql/ws
    // (graphql-transport-ws). The server must acknowledge the connection and take the
    // operation without an error (the feed may be empty, so no change need arrive).
    log('running the Live tab (FollowChanges: a subscription over the WebSocket)');
    const frames = [];
    page.on('websocket', (ws) => {
      frames.push(`open ${ws.url()}`);
      ws.on('framesent', (f) => frames.push(`sent ${f.payload}`));
      ws.on('framereceived', (f) => frames.push(`received ${f.payload}`));
    });
    const editorText = () => page.evaluate(() => {
      const cm = document.querySelector('.graphiql-query-editor .CodeMirror');
      return cm && cm.CodeMirror ? cm.CodeMirror.getValue() : '';
    });
    // Switch to the tab and wait until its query is the one in the editor before running it
    // (on a slow machine the click lands before the editor has switched).
    const switchBy = Date.now() + timeout;
    while (Date.now() < switchBy && !(await editorText()).includes('subscription FollowChanges')) {
      await page.locator('.graphiql-tab', { hasText: 'FollowChanges' }).first().click();
      await page.waitForTimeout(500);
    }
    if (!(await editorText()).includes('subscription FollowChanges')) fail('the Live tab did not open in the editor');
    const runBy = Date.now() + timeout;
    do {
      await page.locator('.graphiql-execute-button').click();
      for (let i = 0; i < 20 && !frames.some((f) => f.startsWith('sent') && f.includes('"subscribe"')); i += 1) {
        await page.waitForTimeout(250);
      }
    } while (Date.now() < runBy && !frames.some((f) => f.startsWith('sent') && f.includes('"subscribe"')));
    const subscribed = () => frames.some((f) => f.startsWith('sent') && f.includes('"subscribe"'))
      && frames.some((f) => f.startsWith('received') && f.includes('connection_ack'));
    const until = Date.now() + timeout;
    while (Date.now() < until && !subscribed()) await page.waitForTimeout(250);
    await page.waitForTimeout(500);
    if (!subscribed()) {
      fail(`the Live tab did not subscribe over the WebSocket within ${timeout} ms; frames:\n  ${frames.join('\n  ') || '(none)'}`);
    } else if (frames.some((f) => f.startsWith('received') && /"type":"error"/.test(f))) {
      fail(`the subscription was refused:\n  ${frames.join('\n  ')}`);
    } else {
      log(`the Live tab subscribed: ${frames.filter((f) => !f.startsWith('sent {"type":"ping')).slice(0, 4).join(' | ').slice(0, 400)}`);
    }
  } else if (renderOnly) {
    log('BROWSER_CHECK_RENDER_ONLY=1: skipping the query step');
  }

  // Let late requests/errors surface before judging.
  await page.waitForTimeout(500);
  await page.screenshot({ path: screenshot, fullPage: false });
  log(`screenshot saved to ${screenshot}`);

  if (external.length) fail(`non-local requests were attempted:\n  ${[...new Set(external)].join('\n  ')}`);
  if (pageErrors.length) fail(`the page raised JS errors:\n  ${pageErrors.join('\n  ')}`);
  if (httpErrors.length) fail(`local requests failed:\n  ${httpErrors.join('\n  ')}`);
  if (consoleErrors.length) log(`console errors (not fatal):\n  ${consoleErrors.join('\n  ')}`);

  exitCode = failures.length ? 1 : 0;
} catch (e) {
  fail(`unexpected error: ${e && e.stack ? e.stack : e}`);
  exitCode = 1;
} finally {
  await browser.close().catch(() => {});
}
process.exit(exitCode);
