// A real AT Protocol Personal Data Server for Sixfold's Bluesky tests, on this machine only.
//
// One Node process runs a PLC directory (did:plc identities) on an in-memory database and a
// dev-mode PDS that registers its accounts there. Both listen on 127.0.0.1 only. When both
// answer, one JSON line goes to stdout: {"pds": ..., "plc": ..., "startup_ms": ...}; the
// tests wait for it. The process stops on SIGTERM/SIGINT, or when its stdin closes (the test
// run that started it died). A --data-dir is the caller's to remove; a temporary one made
// here is removed on the way out.
//
// Options (all optional):
//   --data-dir DIR         where the PDS keeps its SQLite files and blobs (default: a temp dir)
//   --port N               the PDS port (default: a free one)
//   --admin-password PW    for com.atproto.admin.* calls (default: "admin-pass")
//   --appview-url URL      where the PDS proxies app.bsky.* calls (a fake AppView in tests)
//   --appview-did DID      the DID it addresses them to (default: did:web:appview.test)
//   --answer-delay-ms N    hold putRecord's answer back this long AFTER the record is written
//                          (fault tests: widens the window in which a client that sent the
//                          write has no answer yet)

import http from 'node:http'
import fs from 'node:fs'
import os from 'node:os'
import path from 'node:path'
import { parseArgs } from 'node:util'

import { Secp256k1Keypair } from '@atproto/crypto'
import { PDS, envToCfg, envToSecrets, readEnv } from '@atproto/pds'
import plc from '@did-plc/server'

const HOST = '127.0.0.1'
const started = Date.now()

// Both servers call `app.listen(port)` without a host, which binds every interface. A test
// server must not be reachable from the network, so every listen without a host is bound to
// the loopback address instead.
const listen = http.Server.prototype.listen
http.Server.prototype.listen = function (...args) {
  if (typeof args[0] === 'number' && typeof args[1] !== 'string') {
    args.splice(1, 0, HOST)
  }
  return listen.apply(this, args)
}

const { values: options } = parseArgs({
  options: {
    'data-dir': { type: 'string' },
    port: { type: 'string', default: '0' },
    'admin-password': { type: 'string', default: 'admin-pass' },
    'appview-url': { type: 'string' },
    'appview-did': { type: 'string', default: 'did:web:appview.test' },
    'answer-delay-ms': { type: 'string', default: '0' },
  },
})

async function freePort() {
  const probe = http.createServer()
  probe.listen(0, HOST)
  await new Promise((resolve) => probe.once('listening', resolve))
  const { port } = probe.address()
  await new Promise((resolve) => probe.close(resolve))
  return port
}

async function startPlc() {
  const server = plc.PlcServer.create({ db: plc.Database.mock(), port: 0 })
  const listening = await server.start()
  return { server, url: `http://${HOST}:${listening.address().port}` }
}

async function pdsEnvironment(plcUrl, port, dataDir) {
  const rotationKey = await Secp256k1Keypair.create({ exportable: true })
  const env = {
    ...readEnv(),
    devMode: true,
    port,
    hostname: 'localhost',
    dataDirectory: dataDir,
    blobstoreDiskLocation: path.join(dataDir, 'blobs'),
    didPlcUrl: plcUrl,
    serviceHandleDomains: ['.test'],
    inviteRequired: false,
    adminPassword: options['admin-password'],
    jwtSecret: 'sixfold-test-jwt-secret',
    plcRotationKeyK256PrivateKeyHex: Buffer.from(await rotationKey.export()).toString('hex'),
    crawlers: [],
    // Tests post hundreds of times a minute from one account.
    rateLimitsEnabled: false,
  }
  if (options['appview-url']) {
    env.bskyAppViewUrl = options['appview-url']
    env.bskyAppViewDid = options['appview-did']
  }
  return env
}

async function startPds(plcUrl) {
  const temporary = options['data-dir'] === undefined
  const dataDir = options['data-dir'] ?? fs.mkdtempSync(path.join(os.tmpdir(), 'sixfold-pds-'))
  fs.mkdirSync(dataDir, { recursive: true })
  const port = Number(options.port) || (await freePort())
  const env = await pdsEnvironment(plcUrl, port, dataDir)
  const cfg = envToCfg(env)
  // Accounts' DID documents name this URL as their PDS, and clients switch to it after
  // logging in: it must name the address the server listens on, not "localhost" (which
  // may resolve to ::1 first).
  cfg.service.publicUrl = `http://${HOST}:${port}`
  const server = await PDS.create(cfg, envToSecrets(env))
  delayAnswers(server.app, Number(options['answer-delay-ms']))
  await server.start()
  return { server, url: cfg.service.publicUrl, dataDir, temporary }
}

// Express looks `app.handle` up on every request, so wrapping it sees each request first.
function delayAnswers(app, delayMs) {
  if (!(delayMs > 0)) return
  const handle = app.handle.bind(app)
  app.handle = (req, res, next) => {
    if (req.url.startsWith('/xrpc/com.atproto.repo.putRecord')) {
      const end = res.end.bind(res)
      res.end = (...args) => {
        setTimeout(() => end(...args), delayMs)
        return res
      }
    }
    return handle(req, res, next)
  }
}

async function main() {
  const plcServer = await startPlc()
  const pds = await startPds(plcServer.url)
  let stopping = false
  const stop = async () => {
    if (stopping) return
    stopping = true
    await pds.server.destroy()
    await plcServer.server.destroy()
    if (pds.temporary) fs.rmSync(pds.dataDir, { recursive: true, force: true })
    process.exit(0)
  }
  process.on('SIGTERM', stop)
  process.on('SIGINT', stop)
  process.stdin.on('end', stop)
  process.stdin.on('close', stop)
  process.stdin.resume()
  const ready = { pds: pds.url, plc: plcServer.url, data_dir: pds.dataDir, startup_ms: Date.now() - started }
  process.stdout.write(JSON.stringify(ready) + '\n')
}

main().catch((error) => {
  console.error(error)
  process.exit(1)
})
