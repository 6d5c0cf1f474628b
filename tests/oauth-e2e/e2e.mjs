// End-to-end test of pdsd's OAuth authorization server, driven by the real
// @atproto/oauth-client-node and a headless Chromium (playwright-core) on loopback.
//
// It starts `pdsd --dev` (temporary data folder, kernel-chosen ports), creates an
// account, signs in as a development client (`http://localhost?...`) through the
// server's own sign-in and consent pages, makes DPoP-bound XRPC calls, lets the
// library refresh and revoke, and checks that the server refuses what it must:
// no PAR, plain PKCE, a reused code, a replayed DPoP proof, a wrong nonce, a token
// presented with another key, an expired token, a redirect_uri the client did not
// register, client_ids at private addresses. It saves screenshots of the sign-in and
// consent pages under docs/. The last line is "N passed, M failed".
//
// Environment: PDSD_BIN (default target/debug/pdsd), PDSCTL_BIN (default beside pdsd),
// CHROMIUM (default
// /usr/bin/chromium), SCREENSHOT_DIR (default docs/), E2E_KEEP_DATA=1 to keep the
// data folder.

import { spawn, execFileSync } from 'node:child_process'
import crypto from 'node:crypto'
import fs from 'node:fs'
import http from 'node:http'
import os from 'node:os'
import path from 'node:path'
import { fileURLToPath } from 'node:url'
import { NodeOAuthClient, requestLocalLock } from '@atproto/oauth-client-node'
import { chromium } from 'playwright-core'

const HERE = path.dirname(fileURLToPath(import.meta.url))
const ROOT = path.resolve(HERE, '..', '..')
const PDSD = process.env.PDSD_BIN || path.join(ROOT, 'target', 'debug', 'pdsd')
const PDSCTL = process.env.PDSCTL_BIN || path.join(path.dirname(PDSD), 'pdsctl')
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium'
const SHOTS = process.env.SCREENSHOT_DIR || path.join(ROOT, 'docs')
const ACCESS_TOKEN_SECS = 8
const HANDLE = 'alice.test'
const PASSWORD = 'e2e correct horse battery staple'
const SCOPE = 'atproto transition:generic'

let passed = 0
let failed = 0
const cleanups = []

async function check(name, fn) {
  try {
    await fn()
    passed++
    console.log(`ok - ${name}`)
  } catch (err) {
    failed++
    console.log(`not ok - ${name}\n    ${String(err?.stack || err).split('\n').join('\n    ')}`)
  }
}

function assert(cond, message) {
  if (!cond) throw new Error(message)
}

const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

// --- pdsd ------------------------------------------------------------------------

async function startPdsd() {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'pdsd-oauth-e2e-'))
  const config = path.join(dir, 'pdsd.toml')
  fs.writeFileSync(config, `[oauth]\naccess_token_secs = ${ACCESS_TOKEN_SECS}\n`)
  const child = spawn(
    PDSD,
    [
      '--dev',
      '--config', config,
      '--data-dir', path.join(dir, 'data'),
      '--listen', '127.0.0.1:0',
      '--plc-listen', '127.0.0.1:0',
      '--socket', path.join(dir, 'pdsd.sock'),
    ],
    { stdio: ['ignore', 'pipe', 'pipe'], env: { ...process.env, PDSD_LOG: process.env.PDSD_LOG || 'warn' } },
  )
  cleanups.push(async () => {
    child.kill('SIGTERM')
    await new Promise((r) => child.once('exit', r).once('error', r))
    if (!process.env.E2E_KEEP_DATA) fs.rmSync(dir, { recursive: true, force: true })
  })
  child.stderr.on('data', (d) => process.stderr.write(`[pdsd] ${d}`))
  let out = ''
  const ready = await new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pdsd did not start in 30 s:\n${out}`)), 30_000)
    child.once('exit', (code) => reject(new Error(`pdsd exited (${code}):\n${out}`)))
    child.stdout.on('data', (d) => {
      out += d
      const listen = out.match(/listening on http:\/\/127\.0\.0\.1:(\d+)/)
      const plc = out.match(/built-in PLC directory \(dev\) at (\S+)/)
      if (listen && plc && out.includes('data folder')) {
        clearTimeout(timer)
        resolve({ port: Number(listen[1]), plcUrl: plc[1] })
      }
    })
  })
  return { ...ready, pdsUrl: `http://localhost:${ready.port}`, dir }
}

async function xrpcJson(pdsUrl, nsid, body) {
  const res = await fetch(`${pdsUrl}/xrpc/${nsid}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  const json = await res.json().catch(() => ({}))
  if (!res.ok) throw new Error(`${nsid}: ${res.status} ${JSON.stringify(json)}`)
  return json
}

// --- DPoP, by hand, for the negative checks -----------------------------------------

const b64url = (buf) => Buffer.from(buf).toString('base64url')

function newKey() {
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' })
  return privateKey
}

function keyFromJwk(jwk) {
  return crypto.createPrivateKey({ key: jwk, format: 'jwk' })
}

function dpopProof(key, method, url, { nonce, accessToken } = {}) {
  const jwk = crypto.createPublicKey(key).export({ format: 'jwk' })
  // The library may pick either algorithm the server offers (ES256 or ES256K).
  const alg = jwk.crv === 'secp256k1' ? 'ES256K' : 'ES256'
  const header = { typ: 'dpop+jwt', alg, jwk: { kty: jwk.kty, crv: jwk.crv, x: jwk.x, y: jwk.y } }
  const claims = { jti: b64url(crypto.randomBytes(16)), htm: method, htu: url, iat: Math.floor(Date.now() / 1000) }
  if (nonce) claims.nonce = nonce
  if (accessToken) claims.ath = b64url(crypto.createHash('sha256').update(accessToken).digest())
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(claims))}`
  const sig = crypto.sign('sha256', Buffer.from(input), { key, dsaEncoding: 'ieee-p1363' })
  return `${input}.${b64url(sig)}`
}

/** POST a form to an OAuth endpoint with a DPoP proof, retrying once with the server's nonce. */
async function oauthPost(pdsUrl, pathname, params, key = newKey()) {
  const url = `${pdsUrl}${pathname}`
  let nonce
  for (let attempt = 0; attempt < 2; attempt++) {
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: dpopProof(key, 'POST', url, { nonce }) },
      body: new URLSearchParams(params).toString(),
    })
    const json = await res.json().catch(() => ({}))
    if (res.status === 400 && json.error === 'use_dpop_nonce' && attempt === 0) {
      nonce = res.headers.get('dpop-nonce')
      continue
    }
    return { status: res.status, json, headers: res.headers }
  }
  throw new Error('unreachable')
}

async function xrpcWith(pdsUrl, nsid, accessToken, key, nonce) {
  const url = `${pdsUrl}/xrpc/${nsid}`
  const res = await fetch(url, {
    headers: { authorization: `DPoP ${accessToken}`, dpop: dpopProof(key, 'GET', url, { nonce, accessToken }) },
  })
  const json = await res.json().catch(() => ({}))
  return { status: res.status, json, headers: res.headers }
}

// --- the client app: an OAuth development client with a loopback callback ----------

function startCallbackServer() {
  let waiting = []
  const server = http.createServer((req, res) => {
    const u = new URL(req.url, 'http://127.0.0.1')
    if (u.pathname !== '/callback') {
      res.writeHead(404).end()
      return
    }
    res.writeHead(200, { 'content-type': 'text/html; charset=utf-8' })
    res.end('<!doctype html><title>Signed in</title><p>You can close this window.</p>')
    const w = waiting.shift()
    if (w) w(u.searchParams)
  })
  const next = () => new Promise((resolve) => waiting.push(resolve))
  return new Promise((resolve) => {
    server.listen(0, '127.0.0.1', () => {
      cleanups.push(() => new Promise((r) => server.close(r)))
      resolve({ port: server.address().port, next })
    })
  })
}

function memoryStore() {
  const m = new Map()
  return {
    map: m,
    async get(k) { return m.get(k) },
    async set(k, v) { m.set(k, v) },
    async del(k) { m.delete(k) },
  }
}

// --- the run -------------------------------------------------------------------------

async function main() {
  fs.mkdirSync(SHOTS, { recursive: true })
  const pds = await startPdsd()
  console.log(`# pdsd at ${pds.pdsUrl}, PLC at ${pds.plcUrl}`)
  let did
  await check('create an account (com.atproto.server.createAccount)', async () => {
    const account = await xrpcJson(pds.pdsUrl, 'com.atproto.server.createAccount', {
      handle: HANDLE,
      email: 'alice@example.com',
      password: PASSWORD,
    })
    did = account.did
    console.log(`# account ${HANDLE} = ${did}`)
  })

  const cb = await startCallbackServer()
  const redirectUri = `http://127.0.0.1:${cb.port}/callback`
  const clientId = `http://localhost?redirect_uri=${encodeURIComponent(redirectUri)}&scope=${encodeURIComponent(SCOPE)}`
  const sessions = memoryStore()
  const recorded = []
  const recordingFetch = async (input, init) => {
    const req = new Request(input, init)
    if (new URL(req.url).pathname.startsWith('/xrpc/')) {
      recorded.push({ url: req.url, method: req.method, headers: Object.fromEntries(req.headers) })
    }
    return fetch(req)
  }
  const client = new NodeOAuthClient({
    clientMetadata: {
      client_id: clientId,
      client_name: 'pdsd end-to-end test',
      redirect_uris: [redirectUri],
      scope: SCOPE,
      grant_types: ['authorization_code', 'refresh_token'],
      response_types: ['code'],
      token_endpoint_auth_method: 'none',
      application_type: 'native',
      dpop_bound_access_tokens: true,
    },
    stateStore: memoryStore(),
    sessionStore: sessions,
    requestLock: requestLocalLock,
    allowHttp: true,
    plcDirectoryUrl: pds.plcUrl,
    handleResolver: pds.pdsUrl,
    fetch: recordingFetch,
  })

  const browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--disable-sync', '--no-first-run',
    ],
  })
  cleanups.push(() => browser.close())
  const context = await browser.newContext({ viewport: { width: 560, height: 860 }, deviceScaleFactor: 2 })
  const page = await context.newPage()

  // 1. Discovery documents.
  await check('metadata documents advertise the profile', async () => {
    const as = await (await fetch(`${pds.pdsUrl}/.well-known/oauth-authorization-server`)).json()
    assert(as.issuer === pds.pdsUrl, `issuer ${as.issuer}`)
    assert(as.require_pushed_authorization_requests === true, 'PAR required')
    assert(as.authorization_response_iss_parameter_supported === true, 'iss parameter')
    assert(as.client_id_metadata_document_supported === true, 'client id metadata')
    assert(as.dpop_signing_alg_values_supported.includes('ES256'), 'ES256 DPoP')
    assert(['none', 'private_key_jwt'].every((m) => as.token_endpoint_auth_methods_supported.includes(m)), 'auth methods')
    assert(as.scopes_supported.includes('atproto'), 'atproto scope')
    assert(JSON.stringify(as.code_challenge_methods_supported) === '["S256"]', 'S256 only')
    const pr = await (await fetch(`${pds.pdsUrl}/.well-known/oauth-protected-resource`)).json()
    assert(pr.authorization_servers[0] === pds.pdsUrl, 'protected resource names the issuer')
  })

  // 2. Sign in through the pages, with the library.
  let session
  let firstCode
  await check('sign-in and consent pages in Chromium, then the library gets a session', async () => {
    const url = await client.authorize(did, { scope: SCOPE })
    assert(url.pathname === '/oauth/authorize' && url.searchParams.get('request_uri'), `authorize URL ${url}`)
    const callback = cb.next()
    await page.goto(url.href)
    await page.waitForSelector('input[name=password]')
    assert((await page.title()).startsWith('Sign in'), 'sign-in page title')
    await page.screenshot({ path: path.join(SHOTS, 'oauth-signin.png'), fullPage: true })
    const identifier = page.locator('#identifier')
    if (!(await identifier.getAttribute('readonly')) && !(await identifier.inputValue())) {
      await identifier.fill(HANDLE)
    }
    await page.fill('#password', PASSWORD)
    await Promise.all([page.waitForURL(/\/oauth\/authorize/), page.click('button[value=signin]')])
    await page.waitForSelector('button[value=allow]')
    const text = await page.textContent('body')
    assert(text.includes('Allow access to your account?'), 'consent page')
    assert(text.includes(`@${HANDLE}`), 'consent names the account')
    assert(text.includes('Use your account'), 'consent lists the scopes in words')
    await page.screenshot({ path: path.join(SHOTS, 'oauth-consent.png'), fullPage: true })
    await page.click('button[value=allow]')
    const params = await callback
    assert(params.get('iss') === pds.pdsUrl, `iss ${params.get('iss')}`)
    firstCode = params.get('code')
    const result = await client.callback(params)
    session = result.session
    assert(session.did === did, `sub ${session.did}`)
    const info = await session.getTokenInfo(false)
    assert(info.scope.split(' ').includes('transition:generic'), `scope ${info.scope}`)
  })

  const stored = () => sessions.map.get(did)
  const nsid = 'com.atproto.server.getSession'

  await check('XRPC calls with the DPoP-bound token', async () => {
    const res = await session.fetchHandler(`/xrpc/${nsid}`)
    const json = await res.json()
    assert(res.status === 200, `getSession ${res.status} ${JSON.stringify(json)}`)
    assert(json.did === did, 'getSession did')
    assert(res.headers.get('dpop-nonce'), 'DPoP-Nonce on the resource answer')
    const create = await session.fetchHandler('/xrpc/com.atproto.repo.createRecord', {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({
        repo: did,
        collection: 'app.bsky.feed.post',
        record: { $type: 'app.bsky.feed.post', text: 'posted through OAuth', createdAt: new Date().toISOString() },
      }),
    })
    const created = await create.json()
    assert(create.status === 200 && String(created.uri).startsWith(`at://${did}/`), `createRecord ${create.status} ${JSON.stringify(created)}`)
  })

  await check('a replayed DPoP proof is refused', async () => {
    const last = [...recorded].reverse().find((r) => r.url.endsWith(`/xrpc/${nsid}`))
    assert(last, 'recorded a getSession request')
    const res = await fetch(last.url, { headers: { authorization: last.headers.authorization, dpop: last.headers.dpop } })
    const json = await res.json()
    assert(res.status === 401 && json.error === 'invalid_dpop_proof', `${res.status} ${JSON.stringify(json)}`)
    assert((res.headers.get('www-authenticate') || '').includes('invalid_dpop_proof'), 'WWW-Authenticate')
  })

  await check('a wrong DPoP nonce gets use_dpop_nonce and a fresh nonce', async () => {
    const { tokenSet, dpopJwk } = stored()
    const r = await xrpcWith(pds.pdsUrl, nsid, tokenSet.access_token, keyFromJwk(dpopJwk), 'not-the-nonce')
    assert(r.status === 401 && r.json.error === 'use_dpop_nonce', `${r.status} ${JSON.stringify(r.json)}`)
    assert((r.headers.get('www-authenticate') || '').includes('use_dpop_nonce'), 'WWW-Authenticate')
    const nonce = r.headers.get('dpop-nonce')
    assert(nonce, 'DPoP-Nonce')
    const ok = await xrpcWith(pds.pdsUrl, nsid, tokenSet.access_token, keyFromJwk(dpopJwk), nonce)
    assert(ok.status === 200, `with the fresh nonce: ${ok.status} ${JSON.stringify(ok.json)}`)
  })

  await check('the token is refused with another key', async () => {
    const { tokenSet } = stored()
    const first = await xrpcWith(pds.pdsUrl, nsid, tokenSet.access_token, newKey())
    const nonce = first.headers.get('dpop-nonce')
    const r = await xrpcWith(pds.pdsUrl, nsid, tokenSet.access_token, newKey(), nonce)
    assert(r.status === 401 && r.json.error === 'invalid_token', `${r.status} ${JSON.stringify(r.json)}`)
  })

  let firstRefresh
  await check('an expired token is refused, and the library refreshes', async () => {
    const { tokenSet, dpopJwk } = stored()
    firstRefresh = tokenSet.refresh_token
    const expiresAt = Date.parse(tokenSet.expires_at)
    await sleep(Math.max(0, expiresAt - Date.now()) + 1500)
    const probe = await xrpcWith(pds.pdsUrl, nsid, tokenSet.access_token, keyFromJwk(dpopJwk))
    const r = await xrpcWith(pds.pdsUrl, nsid, tokenSet.access_token, keyFromJwk(dpopJwk), probe.headers.get('dpop-nonce'))
    assert(r.status === 401 && r.json.error === 'invalid_token' && /expired/.test(r.json.message), `${r.status} ${JSON.stringify(r.json)}`)
    const res = await session.fetchHandler(`/xrpc/${nsid}`)
    assert(res.status === 200, `after refresh ${res.status}`)
    const now = stored().tokenSet
    assert(now.refresh_token && now.refresh_token !== firstRefresh, 'refresh token rotated')
    assert(now.access_token !== tokenSet.access_token, 'new access token')
    const forced = await session.getTokenInfo(true)
    assert(forced.sub === did, 'forced refresh')
  })

  await check('revocation (signOut) ends the session', async () => {
    const { tokenSet, dpopJwk } = stored()
    await session.signOut()
    const probe = await xrpcWith(pds.pdsUrl, nsid, tokenSet.access_token, keyFromJwk(dpopJwk))
    const r = await xrpcWith(pds.pdsUrl, nsid, tokenSet.access_token, keyFromJwk(dpopJwk), probe.headers.get('dpop-nonce'))
    assert(r.status === 401 && r.json.error === 'invalid_token', `${r.status} ${JSON.stringify(r.json)}`)
    const refreshed = await oauthPost(pds.pdsUrl, '/oauth/token', {
      grant_type: 'refresh_token', refresh_token: tokenSet.refresh_token, client_id: clientId,
    }, keyFromJwk(dpopJwk))
    assert(refreshed.json.error === 'invalid_grant', `refresh after revoke: ${JSON.stringify(refreshed.json)}`)
  })

  // 3. A second sign-in in the same browser: remembered, straight to consent.
  let secondCode
  await check('the browser remembers the sign-in; a reused code revokes its session', async () => {
    const url = await client.authorize(did, { scope: SCOPE })
    const callback = cb.next()
    await page.goto(url.href)
    await page.waitForSelector('button[value=allow]')
    assert(!(await page.$('input[name=password]')), 'no password asked the second time')
    await page.click('button[value=allow]')
    const params = await callback
    secondCode = params.get('code')
    const { session: s2 } = await client.callback(params)
    const ok = await s2.fetchHandler(`/xrpc/${nsid}`)
    assert(ok.status === 200, `second session works: ${ok.status}`)
    const { tokenSet, dpopJwk } = stored()
    const reuse = await oauthPost(pds.pdsUrl, '/oauth/token', {
      grant_type: 'authorization_code', code: secondCode, redirect_uri: redirectUri,
      code_verifier: b64url(crypto.randomBytes(32)), client_id: clientId,
    }, keyFromJwk(dpopJwk))
    assert(reuse.status === 400 && reuse.json.error === 'invalid_grant', `reused code: ${JSON.stringify(reuse.json)}`)
    const probe = await xrpcWith(pds.pdsUrl, nsid, tokenSet.access_token, keyFromJwk(dpopJwk))
    const r = await xrpcWith(pds.pdsUrl, nsid, tokenSet.access_token, keyFromJwk(dpopJwk), probe.headers.get('dpop-nonce'))
    assert(r.status === 401, `the session of a reused code is revoked: ${r.status} ${JSON.stringify(r.json)}`)
    const old = await oauthPost(pds.pdsUrl, '/oauth/token', {
      grant_type: 'authorization_code', code: firstCode, redirect_uri: redirectUri,
      code_verifier: b64url(crypto.randomBytes(32)), client_id: clientId,
    })
    assert(old.json.error === 'invalid_grant', `first code again: ${JSON.stringify(old.json)}`)
    const stale = await oauthPost(pds.pdsUrl, '/oauth/token', {
      grant_type: 'refresh_token', refresh_token: firstRefresh, client_id: clientId,
    })
    assert(stale.json.error === 'invalid_grant', `rotated-out refresh token: ${JSON.stringify(stale.json)}`)
  })

  // 4. The operator's view: `pdsctl oauth list|revoke` over the admin socket.
  const pdsctl = (...args) =>
    JSON.parse(execFileSync(PDSCTL, ['--socket', path.join(pds.dir, 'pdsd.sock'), '--json', ...args], { encoding: 'utf8' }))
  await check('pdsctl oauth list shows the app; pdsctl oauth revoke ends its session', async () => {
    const url = await client.authorize(did, { scope: SCOPE })
    const callback = cb.next()
    await page.goto(url.href)
    await page.waitForSelector('button[value=allow]')
    await page.click('button[value=allow]')
    const { session: s3 } = await client.callback(await callback)
    assert((await s3.fetchHandler(`/xrpc/${nsid}`)).status === 200, 'third session works')
    const listed = pdsctl('oauth', 'list', HANDLE)
    assert(listed.did === did, `list did ${listed.did}`)
    const app = listed.apps.find((a) => a.client_id === clientId)
    // A loopback development client has no metadata document, so no name to show.
    assert(app && app.client_name === null, `app listed: ${JSON.stringify(listed)}`)
    assert(app.sessions.length === 1 && app.scope.includes('transition:generic'), `one live session: ${JSON.stringify(app)}`)
    const revoked = pdsctl('oauth', 'revoke', HANDLE, clientId)
    assert(revoked.revoked === 1, `revoked ${JSON.stringify(revoked)}`)
    const { tokenSet, dpopJwk } = stored()
    const probe = await xrpcWith(pds.pdsUrl, nsid, tokenSet.access_token, keyFromJwk(dpopJwk))
    const r = await xrpcWith(pds.pdsUrl, nsid, tokenSet.access_token, keyFromJwk(dpopJwk), probe.headers.get('dpop-nonce'))
    assert(r.status === 401 && r.json.error === 'invalid_token', `after revoke: ${r.status} ${JSON.stringify(r.json)}`)
    const refreshed = await oauthPost(pds.pdsUrl, '/oauth/token', {
      grant_type: 'refresh_token', refresh_token: tokenSet.refresh_token, client_id: clientId,
    }, keyFromJwk(dpopJwk))
    assert(refreshed.json.error === 'invalid_grant', `refresh after pdsctl revoke: ${JSON.stringify(refreshed.json)}`)
    assert(pdsctl('oauth', 'list', HANDLE).apps.length === 0, 'nothing left to list')
  })

  // 5. Refusals, by hand.
  const pkce = () => {
    const verifier = b64url(crypto.randomBytes(32))
    return { verifier, challenge: b64url(crypto.createHash('sha256').update(verifier).digest()) }
  }
  const parParams = (over = {}) => ({
    client_id: clientId, response_type: 'code', redirect_uri: redirectUri, scope: SCOPE,
    state: b64url(crypto.randomBytes(12)), code_challenge: pkce().challenge, code_challenge_method: 'S256', ...over,
  })

  await check('PAR is required', async () => {
    const q = new URLSearchParams({
      client_id: clientId, response_type: 'code', redirect_uri: redirectUri, scope: SCOPE,
      state: 'x', code_challenge: pkce().challenge, code_challenge_method: 'S256',
    })
    const res = await fetch(`${pds.pdsUrl}/oauth/authorize?${q}`)
    const html = await res.text()
    assert(res.status === 400 && html.includes('invalid_request') && html.includes('pushed authorization'), `${res.status}`)
    const good = await oauthPost(pds.pdsUrl, '/oauth/par', parParams())
    assert(good.status === 201 && good.json.request_uri, `a proper PAR works: ${JSON.stringify(good.json)}`)
  })

  await check('plain PKCE is refused', async () => {
    const v = b64url(crypto.randomBytes(32))
    const r = await oauthPost(pds.pdsUrl, '/oauth/par', parParams({ code_challenge: v, code_challenge_method: 'plain' }))
    assert(r.status === 400 && r.json.error === 'invalid_request' && /plain/.test(r.json.error_description), JSON.stringify(r.json))
  })

  await check('a code_challenge is never reused', async () => {
    const { challenge } = pkce()
    const a = await oauthPost(pds.pdsUrl, '/oauth/par', parParams({ code_challenge: challenge }))
    const b = await oauthPost(pds.pdsUrl, '/oauth/par', parParams({ code_challenge: challenge }))
    assert(a.status === 201 && b.status === 400 && b.json.error === 'invalid_request', `${a.status} ${JSON.stringify(b.json)}`)
  })

  await check('a redirect_uri the client did not register is refused', async () => {
    const r = await oauthPost(pds.pdsUrl, '/oauth/par', parParams({ redirect_uri: 'http://127.0.0.1:1/elsewhere' }))
    assert(r.status === 400 && r.json.error === 'invalid_request' && /redirect_uri/.test(r.json.error_description), JSON.stringify(r.json))
  })

  await check('a DPoP proof without the server nonce is refused with use_dpop_nonce', async () => {
    const url = `${pds.pdsUrl}/oauth/par`
    const res = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', dpop: dpopProof(newKey(), 'POST', url, { nonce: 'made-up' }) },
      body: new URLSearchParams(parParams()).toString(),
    })
    const json = await res.json()
    assert(res.status === 400 && json.error === 'use_dpop_nonce' && res.headers.get('dpop-nonce'), JSON.stringify(json))
  })

  await check('client_ids at private or loopback addresses are refused', async () => {
    for (const id of ['https://localhost/oauth-client-metadata.json', 'https://192.168.1.10/oauth-client-metadata.json', 'https://10.0.0.1/client.json']) {
      const r = await oauthPost(pds.pdsUrl, '/oauth/par', parParams({ client_id: id, redirect_uri: 'https://app.example.com/cb' }))
      assert(r.status === 400 && r.json.error === 'invalid_client', `${id}: ${JSON.stringify(r.json)}`)
    }
  })
}

try {
  await main()
} catch (err) {
  failed++
  console.log(`not ok - setup\n    ${String(err?.stack || err).split('\n').join('\n    ')}`)
} finally {
  for (const c of cleanups.reverse()) {
    try { await c() } catch { /* already gone */ }
  }
}
console.log(`${passed} passed, ${failed} failed`)
process.exit(failed === 0 ? 0 : 1)
