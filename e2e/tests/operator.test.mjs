// The operator console in Debian's Chromium: a caseworker (an identity made
// operator with `openmitid admin operators add`) logs in with their own app,
// finds a person, records the document, has a witness approve in their own
// app (`openmitid app approve`), and hands over an activation code; the new
// person activates an app with it and logs in at a service provider with IAL
// high; the witness's approval is in the audit log, whose chains verify.
// Screenshots go to docs/screenshots/operator-*.png, some also at a phone's
// width (operator-*-en-390.png).
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { root, bin, startServer, identity, phone, browser, relyingParty } from '../lib/harness.mjs';

const exec = promisify(execFile);
const out = join(root, 'docs', 'screenshots');
const NSIS = 'https://data.gov.dk/concept/core/nsis/';
let server, chromium, rp;

before(async () => {
  server = await startServer();
  chromium = await browser();
  rp = await relyingParty(server);
});

after(async () => {
  await rp?.close();
  await chromium?.close();
  await server?.stop();
});

const db = () => `sqlite:${join(server.dir, 'openmitid.db')}`;

async function person(body) {
  const r = await fetch(`${server.issuer}/testtool/v1/persons`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  assert.equal(r.status, 201, await r.clone().text());
  return (await r.json()).cpr;
}

test('a caseworker enrols a person in person with a witness', async () => {
  const caseworker = await identity(server, { name: 'Sagsbehandler Hansen', authenticators: ['app'] });
  const caseworkerApp = await phone(server, caseworker);
  await exec(bin, ['admin', 'operators', 'add', '--db', db(), '--user-id', caseworker.user_id, '--role', 'caseworker']);
  const witness = await identity(server, { name: 'Vibeke Vidne', birthdate: '1968-05-05', authenticators: ['app'] });
  const witnessApp = await phone(server, witness);
  const cpr = await person({ name: 'Nikolaj Nybegynder', birthdate: '1991-03-03' });

  const ctx = await chromium.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
  const p = await ctx.newPage();
  // phone: also on a phone's width (390 px), where nothing may stick out
  // sideways; the page is the same, only the window narrower.
  const shot = async (name, { phone = false } = {}) => {
    assert.doesNotMatch(await p.content(), /⟦/, `a text is missing on ${name}`);
    await p.screenshot({ path: join(out, `operator-${name}-en-1280.png`), fullPage: true });
    if (!phone) return;
    await p.setViewportSize({ width: 390, height: 844 });
    const wide = await p.evaluate(() => [...document.querySelectorAll('body *')]
      .filter((e) => e.getBoundingClientRect().right > document.documentElement.clientWidth + 0.5)
      .map((e) => e.id || e.tagName.toLowerCase()));
    assert.deepEqual(wide, [], `on a phone, ${name} is wider than the screen`);
    assert.ok(await p.evaluate(() => document.documentElement.scrollWidth <= document.documentElement.clientWidth),
      `on a phone, ${name} scrolls sideways`);
    await p.screenshot({ path: join(out, `operator-${name}-en-390.png`), fullPage: true });
    await p.setViewportSize({ width: 1280, height: 900 });
  };

  // Log in with the caseworker's own MitID and app.
  await p.goto(`${server.issuer}/operator/`);
  await shot('login');
  await p.getByRole('link', { name: 'Log in with MitID' }).click();
  await p.getByLabel('User ID').fill(caseworker.user_id);
  await p.getByRole('button', { name: 'Continue' }).click();
  const binding = await p.locator('[data-binding-code]').getAttribute('data-binding-code');
  await caseworkerApp.approve(binding);
  await p.waitForSelector('#find-form', { timeout: 20_000 });
  assert.match(await p.locator('#who').innerText(), new RegExp(caseworker.user_id));

  // Find the person and record the document inspected.
  await p.getByLabel('CPR number').fill(cpr);
  await shot('home', { phone: true });
  await p.getByRole('button', { name: 'Find person' }).click();
  assert.equal(await p.locator('#person-name').innerText(), 'Nikolaj Nybegynder');
  assert.equal(await p.locator('#person-enrolled').innerText(), 'No');
  await p.getByLabel('Document', { exact: true }).selectOption('passport');
  await p.getByLabel('Document number').fill('PA1234567');
  await p.getByLabel('Expiry date').fill('2031-01-01');
  await shot('person', { phone: true });
  await p.getByRole('button', { name: 'Record document and continue' }).click();
  await p.waitForSelector('#witness-form');
  await shot('case', { phone: true });

  // A witness who does not exist is refused on the page; the real one is asked.
  await p.getByLabel("The witness's user ID").fill('nobody-by-this-name');
  await p.getByRole('button', { name: 'Ask the witness' }).click();
  assert.match(await p.locator('#page-error').innerText(), /No active MitID has this user ID/);
  await p.getByLabel("The witness's user ID").fill(witness.user_id);
  await p.getByRole('button', { name: 'Ask the witness' }).click();
  const code = await p.locator('[data-binding-code]').getAttribute('data-binding-code');
  assert.match(code, /^\d{4}$/);
  await shot('witness-waiting', { phone: true });
  const shown = await witnessApp.approve(code);
  assert.match(shown, /I declare that I know Nikolaj Nybegynder, born 03-03-1991/);
  assert.match(shown, /Declaration:/);

  // The page reloads itself until the witness has answered.
  await p.waitForSelector('#issue-form', { timeout: 20_000 });
  await p.getByLabel('User ID (chosen by the person; leave empty to make one)').fill('nikolaj-ny');
  await shot('verified');
  await p.getByRole('button', { name: 'Create MitID' }).click();
  const activation = (await p.locator('#activation-code').innerText()).trim();
  assert.match(activation, /^[A-Z0-9]{4}(-[A-Z0-9]{4})+$/);
  assert.equal(await p.locator('#activation-qr svg').count(), 1, 'the code is also a QR code');
  await shot('issued', { phone: true });
  // Shown once: the case's page does not show it again.
  await p.goBack();
  await p.reload();
  assert.equal(await p.locator('#activation-code').count(), 0);

  // The new person activates the app and logs in at a service provider.
  const newApp = await phone(server, { user_id: 'nikolaj-ny', app: { activation_code: activation } });
  const login = await rp.start({ acr_values: NSIS + 'Substantial' });
  const q = await ctx.newPage();
  await q.goto(login.url);
  await q.getByLabel('User ID').fill('nikolaj-ny');
  await q.getByRole('button', { name: 'Continue' }).click();
  await newApp.approve(await q.locator('[data-binding-code]').getAttribute('data-binding-code'));
  const { claims } = await rp.finish(login);
  assert.equal(claims.ial, NSIS + 'High');
  assert.equal(claims.name, 'Nikolaj Nybegynder');

  // Logging out ends the session.
  await p.goto(`${server.issuer}/operator/`);
  await p.getByRole('button', { name: 'Log out' }).click();
  await p.waitForSelector('#login');
  await ctx.close();

  // The witness's approval is in the audit log, and the log verifies.
  const { stdout } = await exec(bin, ['audit', 'list', '--db', db(), '--action', 'enrolment.witness_approved', '--json']);
  const events = stdout.trim().split('\n').map((l) => JSON.parse(l));
  assert.equal(events.length, 1);
  assert.equal(events[0].identity, witness.uuid);
  assert.equal(events[0].actor, `identity:${witness.uuid}`);
  assert.match(events[0].details.approval, /^[A-Za-z0-9_-]{22}$/);
  const approved = await exec(bin, ['audit', 'list', '--db', db(), '--action', 'approval.approved', '--identity', witness.uuid, '--json']);
  assert.match(approved.stdout, new RegExp(events[0].details.approval), 'the approval itself is audited too');
  const verify = await exec(bin, ['audit', 'verify', '--db', db()]);
  assert.match(verify.stdout, /audit log intact/);
});

test('someone who is not an operator is refused, and a form without its CSRF token too', async () => {
  const stranger = await identity(server, { name: 'Ikke Operatør', authenticators: ['app'] });
  const app = await phone(server, stranger);
  const ctx = await chromium.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
  const p = await ctx.newPage();
  await p.goto(`${server.issuer}/operator/`);
  await p.getByRole('link', { name: 'Log in with MitID' }).click();
  await p.getByLabel('User ID').fill(stranger.user_id);
  await p.getByRole('button', { name: 'Continue' }).click();
  await app.approve(await p.locator('[data-binding-code]').getAttribute('data-binding-code'));
  await p.waitForSelector('text=You are not a caseworker', { timeout: 20_000 });
  await p.screenshot({ path: join(out, 'operator-not-operator-en-1280.png'), fullPage: true });
  // No session: the console's pages send the browser to log in, and a
  // form posted without a session or token is refused.
  const r = await p.request.post(`${server.issuer}/operator/person`, { form: { cpr: '0101901234' }, maxRedirects: 0 });
  assert.equal(r.status(), 403);
  await ctx.close();
});

test('a caseworker compares the faces of a passport enrolment and approves', async () => {
  const caseworker = await identity(server, { name: 'Kirsten Kontrol', authenticators: ['app'] });
  const caseworkerApp = await phone(server, caseworker);
  await exec(bin, ['admin', 'operators', 'add', '--db', db(), '--user-id', caseworker.user_id]);
  const cpr = await person({ name: 'Rie Review', birthdate: '1979-09-09' });
  const dump = join(server.dir, 'rie.json');
  const face = join(server.dir, 'rie.jpg');
  await exec(bin, ['testdata', 'passport', '--out', dump, '--name', 'Rie Review', '--birthdate', '1979-09-09', '--face-out', face]);
  // The app waits for the caseworker (face review is the default).
  const enrolling = exec(bin, ['app', 'enrol-passport', '--server', server.issuer, '--passport', dump, '--selfie', face,
    '--cpr', cpr, '--user-id', 'rie-review', '--password', 'a long enough passphrase 42', '--pin', '2468',
    '--state', join(server.dir, 'rie.state'), '--wait', '60s']);

  const ctx = await chromium.newContext({ locale: 'da-DK', viewport: { width: 1280, height: 900 } });
  const p = await ctx.newPage();
  await p.goto(`${server.issuer}/operator/`);
  await p.getByRole('link', { name: 'Log ind med MitID' }).click();
  await p.getByLabel('Bruger-id').fill(caseworker.user_id);
  await p.getByRole('button', { name: 'Fortsæt' }).click();
  await caseworkerApp.approve(await p.locator('[data-binding-code]').getAttribute('data-binding-code'));
  await p.waitForSelector('#find-form', { timeout: 20_000 });
  await p.screenshot({ path: join(out, 'operator-home-da-1280.png'), fullPage: true });

  // The case appears in the queue once the app has sent the passport.
  for (let i = 0; i < 50; i++) {
    await p.goto(`${server.issuer}/operator/reviews`);
    if (await p.locator('#review-queue a').count() > 0) break;
    await new Promise((r) => setTimeout(r, 200));
  }
  await p.locator('#review-queue a').first().click();
  await p.waitForSelector('#portrait');
  const sizes = await p.evaluate(() => ['portrait', 'selfie'].map((id) => document.getElementById(id).naturalWidth));
  assert.ok(sizes.every((w) => w > 0), `both pictures load: ${sizes}`);
  assert.doesNotMatch(await p.content(), /⟦/);
  await p.screenshot({ path: join(out, 'operator-review-da-1280.png'), fullPage: true });
  await p.getByRole('button', { name: 'Samme person: godkend' }).click();
  await p.waitForSelector('text=Du har godkendt ansigtskontrollen');

  const { stdout } = await enrolling;
  assert.match(stdout, /rie-review/);
  await ctx.close();
});
