// The browser tests' harness: the real binary, Debian's Chromium through
// playwright-core, a virtual WebAuthn authenticator, the reference app
// (`openmitid app`, on pkg/appclient) as the phone, oathtool as the code
// display, and openid-client as an independent relying party.
import { spawn, execFile } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { chromium } from 'playwright-core';
import * as oidc from 'openid-client';

const exec = promisify(execFile);

export const root = resolve(import.meta.dirname, '..', '..');
export const bin = process.env.OPENMITID_BIN || join(root, 'bin', 'openmitid');
export const chromiumPath = process.env.CHROMIUM || '/usr/bin/chromium';

// Chromium here must not reach for the network (no network exists).
const chromiumArgs = ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
  '--disable-background-networking', '--disable-component-update', '--disable-sync'];

function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => { const { port } = s.address(); s.close(() => res(port)); });
    s.on('error', rej);
  });
}

// startServer runs `openmitid serve --demo` on a fresh SQLite database, with
// the issuer on localhost (a WebAuthn relying party needs a host name).
export async function startServer() {
  const dir = await mkdtemp(join(tmpdir(), 'openmitid-e2e-'));
  const port = await freePort();
  const issuer = `http://localhost:${port}`;
  const env = { ...process.env, OPENMITID_LOG_LEVEL: 'warn' };
  for (const k of Object.keys(env)) if (k.startsWith('OPENMITID_') && k !== 'OPENMITID_LOG_LEVEL') delete env[k];
  const proc = spawn(bin, ['serve', '--demo', '--addr', `127.0.0.1:${port}`, '--issuer', issuer,
    '--db', `sqlite:${join(dir, 'openmitid.db')}`], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let log = '';
  proc.stdout.on('data', (d) => { log += d; });
  proc.stderr.on('data', (d) => { log += d; });
  const deadline = Date.now() + 60_000;
  for (;;) {
    if (proc.exitCode !== null) throw new Error(`openmitid serve exited:\n${log}`);
    try {
      const r = await fetch(`http://127.0.0.1:${port}/readyz`);
      if (r.ok) break;
    } catch { /* not yet */ }
    if (Date.now() > deadline) throw new Error(`openmitid serve not ready:\n${log}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return {
    issuer, dir, log: () => log,
    async stop() {
      proc.kill('SIGTERM');
      await new Promise((r) => (proc.exitCode !== null ? r() : proc.on('exit', r)));
      await rm(dir, { recursive: true, force: true });
    },
  };
}

// identity makes a test identity through the test tool.
export async function identity(server, body) {
  const r = await fetch(`${server.issuer}/testtool/v1/identities`, {
    method: 'POST', headers: { 'Content-Type': 'application/json' }, body: JSON.stringify(body),
  });
  if (r.status !== 201) throw new Error(`test tool: ${r.status} ${await r.text()}`);
  return r.json();
}

// phone is the reference app with its state file, activated for a person.
export async function phone(server, person, pin = '1357') {
  const state = join(server.dir, `${person.user_id}.state`);
  await exec(bin, ['app', 'activate', '--server', server.issuer, '--code', person.app.activation_code,
    '--pin', pin, '--state', state]);
  return {
    // approve waits for the person's request, binds it with what the
    // screen shows (a 4-digit code or a QR frame) and approves it.
    async approve(binding, ...flags) {
      const args = ['app', 'approve', '--state', state, '--pin', pin, '--wait', '20s', ...flags];
      if (binding) args.push('--binding', binding);
      const { stdout } = await exec(bin, args);
      return stdout;
    },
  };
}

// code is what the code display shows now (RFC 6238, by oathtool).
export async function code(secret) {
  const { stdout } = await exec('oathtool', ['--totp', '-b', secret]);
  return stdout.trim();
}

// browser launches Debian's Chromium (a fresh profile each time).
export async function browser() {
  return chromium.launch({ executablePath: chromiumPath, headless: true, args: chromiumArgs });
}

// virtualChip gives the page's browser a virtual security key holding the
// test tool's chip, so that navigator.credentials.get answers with it.
export async function virtualChip(page, chip) {
  const cdp = await page.context().newCDPSession(page);
  await cdp.send('WebAuthn.enable', { enableUI: false });
  const { authenticatorId } = await cdp.send('WebAuthn.addVirtualAuthenticator', {
    options: { protocol: 'ctap2', transport: 'usb', hasResidentKey: false, hasUserVerification: false,
      isUserVerified: false, automaticPresenceSimulation: true },
  });
  const b64 = (s) => Buffer.from(s, 'base64url').toString('base64');
  await cdp.send('WebAuthn.addCredential', {
    authenticatorId,
    credential: { credentialId: b64(chip.credential_id), isResidentCredential: false, rpId: chip.rp_id,
      privateKey: chip.private_key_pkcs8, signCount: chip.sign_count },
  });
  return { cdp, authenticatorId };
}

// relyingParty is an independent service provider: openid-client with the
// demo client, a loopback redirect on a port of its own (RFC 8252).
export async function relyingParty(server) {
  const port = await freePort();
  const redirectUri = `http://127.0.0.1:${port}/callback`;
  const config = await oidc.discovery(new URL(server.issuer), 'demo', 'demo-secret', undefined,
    { execute: [oidc.allowInsecureRequests] });
  let waiting;
  const http = createServer((req, res) => {
    res.writeHead(200, { 'Content-Type': 'text/html' });
    res.end('<!doctype html><title>Service provider</title><p>Back at the service provider.</p>');
    if (waiting && req.url.startsWith('/callback')) waiting(new URL(req.url, redirectUri));
  });
  await new Promise((r) => http.listen(port, '127.0.0.1', r));
  return {
    config,
    // start returns the authorization URL and what the exchange checks.
    async start(params = {}) {
      const verifier = oidc.randomPKCECodeVerifier();
      const state = oidc.randomState();
      const nonce = oidc.randomNonce();
      const url = oidc.buildAuthorizationUrl(config, {
        redirect_uri: redirectUri, scope: 'openid profile', state, nonce,
        code_challenge: await oidc.calculatePKCECodeChallenge(verifier), code_challenge_method: 'S256', ...params,
      });
      const callback = new Promise((r) => { waiting = r; });
      return { url: url.href, verifier, state, nonce, callback };
    },
    // finish exchanges the code the browser brought back and verifies the ID token.
    async finish(login) {
      const current = await login.callback;
      const tokens = await oidc.authorizationCodeGrant(config, current, {
        pkceCodeVerifier: login.verifier, expectedState: login.state, expectedNonce: login.nonce,
      });
      return { tokens, claims: tokens.claims() };
    },
    close: () => new Promise((r) => http.close(r)),
  };
}
