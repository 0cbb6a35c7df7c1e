// Whole logins in Debian's Chromium, as a person does them, at a service
// provider that is openid-client: it starts the login, receives the code on
// its loopback redirect and verifies the ID token itself.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startServer, identity, phone, code, browser, virtualChip, relyingParty } from '../lib/harness.mjs';

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

// page opens a fresh browser context in English (Accept-Language: en).
async function page() {
  const ctx = await chromium.newContext({ locale: 'en-US', viewport: { width: 1280, height: 900 } });
  return ctx.newPage();
}

async function identify(p, login, userId) {
  await p.goto(login.url);
  await p.getByLabel('User ID').fill(userId);
  await p.getByRole('button', { name: 'Continue' }).click();
}

test('the app, bound by the code on the screen', async () => {
  const person = await identity(server, { name: 'Astrid Lindgren', authenticators: ['app'] });
  const app = await phone(server, person);
  const p = await page();
  const login = await rp.start({ acr_values: NSIS + 'Substantial' });
  await identify(p, login, person.user_id);
  const binding = await p.locator('[data-binding-code]').getAttribute('data-binding-code');
  assert.match(binding, /^\d{4}$/);
  assert.equal(await p.locator('#qr-image').count(), 1, 'the waiting page shows the QR code');
  const shown = await app.approve(binding);
  assert.match(shown, /OpenMitID Demo/);
  const { claims } = await rp.finish(login);
  assert.equal(claims.loa, NSIS + 'Substantial');
  assert.deepEqual(claims.amr, ['code_app']);
  assert.equal(claims.name, 'Astrid Lindgren');
  await p.context().close();
});

test('code display and password', async () => {
  const person = await identity(server, { name: 'Karen Blixen', authenticators: ['app', 'code_display'] });
  const p = await page();
  const login = await rp.start();
  await identify(p, login, person.user_id);
  // The app comes first; the person chooses the code display instead.
  await p.getByRole('link', { name: 'Choose another method' }).click();
  await p.getByRole('button', { name: 'Code display' }).click();
  await p.getByLabel('Password').fill(person.password);
  await p.getByRole('button', { name: 'Continue' }).click();
  await p.getByLabel('Code').fill(await code(person.code_display.secret));
  await p.getByRole('button', { name: 'Continue' }).click();
  const { claims } = await rp.finish(login);
  assert.equal(claims.loa, NSIS + 'Substantial');
  assert.deepEqual(claims.amr, ['password', 'code_token']);
  await p.context().close();
});

test('a chip and the password, with Chromium\'s virtual authenticator', async () => {
  const person = await identity(server, { name: 'Niels Bohr', authenticators: ['chip'] });
  const p = await page();
  await virtualChip(p, person.chip);
  const login = await rp.start({ acr_values: NSIS + 'Substantial' });
  await identify(p, login, person.user_id);
  await p.getByLabel('Password').fill(person.password);
  await p.getByRole('button', { name: 'Continue' }).click();
  await p.getByRole('button', { name: 'Continue' }).click(); // the chip page: the browser asks the chip
  const { claims } = await rp.finish(login);
  assert.equal(claims.loa, NSIS + 'Substantial');
  assert.deepEqual(claims.amr, ['password', 'u2f_token']);
  await p.context().close();
});

test('high needs the app and a chip', async () => {
  const person = await identity(server, { name: 'Tycho Brahe', authenticators: ['app', 'chip'] });
  const app = await phone(server, person);
  const p = await page();
  await virtualChip(p, person.chip);
  const login = await rp.start({ acr_values: NSIS + 'High' });
  await identify(p, login, person.user_id);
  await app.approve(await p.locator('[data-binding-code]').getAttribute('data-binding-code'));
  await p.waitForSelector('body[data-state="chip"]');
  await p.getByRole('button', { name: 'Continue' }).click();
  const { claims } = await rp.finish(login);
  assert.equal(claims.loa, NSIS + 'High');
  assert.deepEqual(claims.amr, ['code_app', 'u2f_token']);
  await p.context().close();
});

test('high without a chip is an error, never a lower level', async () => {
  const person = await identity(server, { name: 'Hans Christian Andersen', authenticators: ['app', 'code_display'] });
  const p = await page();
  const login = await rp.start({ acr_values: NSIS + 'High' });
  await identify(p, login, person.user_id);
  await p.waitForSelector('body[data-state="failed"]');
  await p.locator('#continue-link, #back-link').first().click();
  await assert.rejects(rp.finish(login), (err) => err.error === 'access_denied');
  await p.context().close();
});

test('the demo service provider shows what it received', async () => {
  const person = await identity(server, { name: 'Inger Christensen', authenticators: ['code_display'] });
  const p = await page();
  await p.goto(`${server.issuer}/demo/`);
  await p.getByRole('button', { name: 'Log ind med MitID' }).click();
  await p.getByLabel('User ID').fill(person.user_id);
  await p.getByRole('button', { name: 'Continue' }).click();
  await p.getByLabel('Password').fill(person.password);
  await p.getByRole('button', { name: 'Continue' }).click();
  await p.getByLabel('Code').fill(await code(person.code_display.secret));
  await p.getByRole('button', { name: 'Continue' }).click();
  await p.waitForURL(`${server.issuer}/demo/`);
  assert.equal(await p.locator('[data-claim="loa"]').textContent(), NSIS + 'Substantial');
  assert.equal(await p.locator('[data-claim="name"]').textContent(), 'Inger Christensen');
  await p.getByRole('button', { name: 'Log ud' }).click();
  await p.waitForURL(`${server.issuer}/demo/`);
  assert.equal(await p.getByRole('button', { name: 'Log ind med MitID' }).count(), 1);
  await p.context().close();
});
