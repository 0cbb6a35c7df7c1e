// Screenshots of every login page in both languages at a desktop and a phone
// width, into docs/screenshots/ (the README shows one). Each page is reached
// the way a person reaches it.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { root, startServer, identity, phone, browser, virtualChip, relyingParty } from '../lib/harness.mjs';

const out = join(root, 'docs', 'screenshots');
const NSIS = 'https://data.gov.dk/concept/core/nsis/';
let server, chromium, rp;

before(async () => {
  await mkdir(out, { recursive: true });
  server = await startServer();
  chromium = await browser();
  rp = await relyingParty(server);
});

after(async () => {
  await rp?.close();
  await chromium?.close();
  await server?.stop();
});

const langs = { da: 'da-DK', en: 'en-US' };
const widths = [1280, 390];

for (const [lang, locale] of Object.entries(langs)) {
  for (const width of widths) {
    test(`every login page, ${lang}, ${width} px`, async () => {
      const ctx = await chromium.newContext({ locale, viewport: { width, height: width > 500 ? 900 : 844 } });
      const p = await ctx.newPage();
      const shot = async (name) => {
        await p.screenshot({ path: join(out, `${name}-${lang}-${width}.png`), fullPage: true });
      };
      const t = (da, en) => (lang === 'da' ? da : en);
      const person = await identity(server, { name: 'Karen Blixen', authenticators: ['app', 'code_display', 'chip'] });
      await phone(server, person);
      await virtualChip(p, person.chip);

      let login = await rp.start({ acr_values: NSIS + 'Substantial' });
      await p.goto(login.url);
      await p.waitForSelector('body[data-state="identify"]');
      await shot('identify');
      await p.getByLabel(t('Bruger-ID', 'User ID')).fill(person.user_id);
      await p.getByRole('button', { name: t('Fortsæt', 'Continue') }).click();
      await p.waitForSelector('body[data-state="waiting_for_app"]');
      await p.waitForTimeout(1200); // a QR frame or two
      await shot('waiting-for-app');
      await p.getByRole('link', { name: t('Vælg en anden metode', 'Choose another method') }).click();
      await p.waitForSelector('body[data-state="methods"]');
      await shot('methods');
      await p.locator('#method-code_display').click();
      await p.waitForSelector('body[data-state="password"]');
      await shot('password');
      await p.getByLabel(t('Adgangskode', 'Password')).fill('not the password');
      await p.getByRole('button', { name: t('Fortsæt', 'Continue') }).click();
      await p.waitForSelector('#page-error, #password-error');
      await shot('password-wrong');
      await p.getByLabel(t('Adgangskode', 'Password')).fill(person.password);
      await p.getByRole('button', { name: t('Fortsæt', 'Continue') }).click();
      await p.waitForSelector('body[data-state="code"]');
      await shot('code');

      login = await rp.start({ acr_values: NSIS + 'Substantial' });
      await p.goto(login.url);
      await p.getByLabel(t('Bruger-ID', 'User ID')).fill(person.user_id);
      await p.getByRole('button', { name: t('Fortsæt', 'Continue') }).click();
      await p.getByRole('link', { name: t('Vælg en anden metode', 'Choose another method') }).click();
      await p.locator('#method-chip').click();
      await p.getByLabel(t('Adgangskode', 'Password')).fill(person.password);
      await p.getByRole('button', { name: t('Fortsæt', 'Continue') }).click();
      await p.waitForSelector('body[data-state="chip"]');
      await shot('chip');

      const plain = await identity(server, { name: 'Karen Blixen', authenticators: ['code_display'] });
      login = await rp.start({ acr_values: NSIS + 'High' });
      await p.goto(login.url);
      await p.getByLabel(t('Bruger-ID', 'User ID')).fill(plain.user_id);
      await p.getByRole('button', { name: t('Fortsæt', 'Continue') }).click();
      await p.waitForSelector('body[data-state="failed"]');
      await shot('failed-level');

      await p.goto(`${server.issuer}/demo/`);
      await shot('demo');
      assert.ok(true);
      await ctx.close();
    });
  }
}
