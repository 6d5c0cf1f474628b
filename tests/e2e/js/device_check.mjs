// Device API checks with the official atproto client libraries (the conformance
// checker's @atproto/* install; see ../shared/conformance). Run by tests/e2e/device.rs.
//
// Usage: node device_check.mjs <state.json>
// state.json: { pdsUrl, plcUrl, did, handle, accessJwt, refreshJwt,
//               desktopCommits: [{ cid, rev, ops: [[action, path, cid|null]] }] }
//
// 1. XRPC use of an account made by POST /v1/accounts/mobile through @atproto/api
//    (resumeSession with the tokens the sign-up returned, then writes and reads).
// 2. getRepo verified by @atproto/repo (verifyRepoCar: MST walk + commit signature with
//    the key resolved by @atproto/identity from the PLC directory).
// 3. The commits the desktop built and the relay signed: the head's block verifies with
//    verifyCommitSig, and @atproto/sync's Firehose (which checks signatures and proofs)
//    delivers it from a cursor-0 replay with the right ops.
// Prints PASS/FAIL lines; exits 1 when anything failed.
import fs from 'node:fs'
import { AtpAgent } from '@atproto/api'
import { IdResolver, MemoryCache, ensureAtprotoKey } from '@atproto/identity'
import { readCar, verifyRepoCar, verifyCommitSig, cborToLex } from '@atproto/repo'
import { CID } from 'multiformats/cid'
import { Firehose } from '@atproto/sync'

const state = JSON.parse(fs.readFileSync(process.argv[2], 'utf8'))
let failed = 0
const check = async (name, fn) => {
  try {
    const detail = await fn()
    console.log(`PASS ${name}${detail ? ' — ' + detail : ''}`)
  } catch (e) {
    failed++
    console.log(`FAIL ${name} — ${e?.stack || e}`)
  }
}
const assert = (c, m) => {
  if (!c) throw new Error(m)
}
const sleep = (ms) => new Promise((r) => setTimeout(r, ms))

const agent = new AtpAgent({ service: state.pdsUrl })
const idResolver = new IdResolver({ plcUrl: state.plcUrl, didCache: new MemoryCache(), timeout: 5000, fetch: globalThis.fetch })
let signingKey

await check('identity: the DID resolves through the PLC directory to this relay', async () => {
  const doc = await idResolver.did.resolve(state.did, true)
  assert(doc, 'did not resolve')
  signingKey = ensureAtprotoKey(doc)
  const pds = doc.service?.find((s) => s.id === '#atproto_pds' || s.id === `${state.did}#atproto_pds`)
  assert(pds && pds.serviceEndpoint.replace(/\/$/, '') !== '', 'no #atproto_pds')
  return signingKey
})

// Earlier commit blocks are dropped once a later commit replaces them (as every PDS does);
// the head's is served, and the firehose check below covers every commit's signature.
for (const dc of (state.desktopCommits || []).slice(-1)) {
  await check(`desktop commit ${dc.cid} (the head): verifyCommitSig`, async () => {
    const res = await agent.com.atproto.sync.getBlocks({ did: state.did, cids: [dc.cid] })
    const { blocks } = await readCar(new Uint8Array(res.data))
    const bytes = blocks.get(CID.parse(dc.cid))
    assert(bytes, 'commit block not served')
    const commit = cborToLex(bytes)
    assert(commit.version === 3 && commit.did === state.did && commit.rev === dc.rev, 'commit fields')
    const ok = await verifyCommitSig(commit, signingKey)
    assert(ok, 'signature does not verify with the DID key')
    return `rev ${commit.rev}`
  })
}

if ((state.desktopCommits || []).length > 0) {
  await check('firehose: @atproto/sync delivers the desktop commits (signatures and proofs verified)', async () => {
    const events = []
    const errors = []
    const hose = new Firehose({
      idResolver,
      service: state.pdsUrl.replace(/^http/, 'ws'),
      getCursor: () => 0,
      unauthenticatedHandles: true,
      subscriptionReconnectDelay: 500,
      handleEvent: (e) => events.push(e),
      onError: (e) => errors.push(e),
    })
    const running = hose.start()
    const want = state.desktopCommits.reduce((n, c) => n + c.ops.length, 0)
    const mine = () => events.filter((e) => e.did === state.did && state.desktopCommits.some((c) => e.commit?.toString() === c.cid))
    for (let i = 0; i < 150 && mine().length < want; i++) await sleep(100)
    await hose.destroy()
    await running
    assert(errors.length === 0, `consumer errors: ${errors.map((e) => e.message + (e.cause ? ' / ' + (e.cause.message || e.cause) : '')).join('; ')}`)
    for (const dc of state.desktopCommits) {
      for (const [action, path, cid] of dc.ops) {
        const ev = mine().find((e) => e.commit.toString() === dc.cid && `${e.collection}/${e.rkey}` === path)
        assert(ev, `op ${path} of ${dc.cid} missing`)
        assert(ev.event === action, `${path}: ${ev.event} != ${action}`)
        if (cid) assert(ev.cid.toString() === cid, `${path}: cid ${ev.cid} != ${cid}`)
        assert(ev.rev === dc.rev, `${path}: rev ${ev.rev} != ${dc.rev}`)
      }
    }
    return `${mine().length} verified ops`
  })
}

await check('mobile account: @atproto/api resumes the sign-up session', async () => {
  await agent.resumeSession({
    accessJwt: state.accessJwt,
    refreshJwt: state.refreshJwt,
    did: state.did,
    handle: state.handle,
    active: true,
  })
  const s = await agent.com.atproto.server.getSession()
  assert(s.data.did === state.did, `getSession did ${s.data.did}`)
  return s.data.handle
})

await check('mobile account: createRecord, getRecord, listRecords through @atproto/api', async () => {
  const rec = { $type: 'app.bsky.feed.post', text: 'hello from the phone', createdAt: new Date().toISOString() }
  const c = await agent.com.atproto.repo.createRecord({ repo: state.did, collection: 'app.bsky.feed.post', record: rec })
  const rkey = c.data.uri.split('/').pop()
  const g = await agent.com.atproto.repo.getRecord({ repo: state.did, collection: 'app.bsky.feed.post', rkey })
  assert(g.data.cid === c.data.cid, 'getRecord cid differs')
  const l = await agent.com.atproto.repo.listRecords({ repo: state.did, collection: 'app.bsky.feed.post' })
  assert(l.data.records.some((r) => r.cid === c.data.cid), 'not listed')
  return c.data.uri
})

await check('repo: getRepo verifies with @atproto/repo verifyRepoCar', async () => {
  const res = await agent.com.atproto.sync.getRepo({ did: state.did })
  const car = new Uint8Array(res.data)
  const verified = await verifyRepoCar(car, state.did, signingKey)
  const latest = await agent.com.atproto.sync.getLatestCommit({ did: state.did })
  assert(verified.commit.cid.toString() === latest.data.cid, 'verified commit is not the latest')
  return `${verified.creates.length} records`
})

console.log(`node: ${failed === 0 ? 'all passed' : failed + ' failed'}`)
process.exit(failed === 0 ? 0 : 1)
