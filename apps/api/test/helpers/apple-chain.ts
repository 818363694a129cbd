import { execFileSync } from 'node:child_process'
import { createPrivateKey, sign } from 'node:crypto'
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/**
 * An Apple-shaped certificate chain made at test time with the openssl CLI (root → intermediate
 * with Apple's intermediate marker OID → leaf with the App Store receipt-signing marker OID), and a
 * signer of compact ES256 JWS with the x5c header StoreKit 2 uses. No private key is ever committed.
 */

export interface TestChain {
  rootDer: Buffer
  /** base64 DER of leaf, intermediate, root: the JWS x5c header. */
  x5c: string[]
  leafKeyPem: string
}

const EXTENSIONS = (markers: boolean) => `[root]
basicConstraints=critical,CA:TRUE
keyUsage=critical,keyCertSign,cRLSign
[inter]
basicConstraints=critical,CA:TRUE,pathlen:0
keyUsage=critical,keyCertSign,cRLSign
${markers ? '1.2.840.113635.100.6.2.1=DER:05:00' : ''}
[leaf]
basicConstraints=critical,CA:FALSE
keyUsage=critical,digitalSignature
${markers ? '1.2.840.113635.100.6.11.1=DER:05:00' : ''}
`

export const opensslAvailable = (() => {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' })
    return true
  } catch {
    return false
  }
})()

export function makeAppleChain(options: { markers?: boolean; leafDays?: number } = {}): TestChain {
  const dir = mkdtempSync(join(tmpdir(), 'apple-chain-'))
  const run = (...args: string[]) =>
    execFileSync('openssl', args, { cwd: dir, stdio: ['ignore', 'ignore', 'pipe'] })
  try {
    writeFileSync(join(dir, 'ext.cnf'), EXTENSIONS(options.markers ?? true))
    for (const name of ['root', 'inter', 'leaf']) {
      run('ecparam', '-name', 'prime256v1', '-genkey', '-noout', '-out', `${name}.key`)
      run('req', '-new', '-key', `${name}.key`, '-subj', `/CN=Test ${name}`, '-out', `${name}.csr`)
    }
    const days = (n: number) => ['-days', String(n), '-sha256', '-extfile', 'ext.cnf']
    run(
      'x509',
      '-req',
      '-in',
      'root.csr',
      '-signkey',
      'root.key',
      ...days(3650),
      '-extensions',
      'root',
      '-out',
      'root.pem',
    )
    run(
      'x509',
      '-req',
      '-in',
      'inter.csr',
      '-CA',
      'root.pem',
      '-CAkey',
      'root.key',
      '-set_serial',
      '2',
      ...days(3650),
      '-extensions',
      'inter',
      '-out',
      'inter.pem',
    )
    run(
      'x509',
      '-req',
      '-in',
      'leaf.csr',
      '-CA',
      'inter.pem',
      '-CAkey',
      'inter.key',
      '-set_serial',
      '3',
      ...days(options.leafDays ?? 3650),
      '-extensions',
      'leaf',
      '-out',
      'leaf.pem',
    )
    const b64 = (file: string) =>
      readFileSync(join(dir, file), 'utf8')
        .replace(/-----[^-]+-----/g, '')
        .replace(/\s+/g, '')
    const root = b64('root.pem')
    return {
      rootDer: Buffer.from(root, 'base64'),
      x5c: [b64('leaf.pem'), b64('inter.pem'), root],
      leafKeyPem: createPrivateKey(readFileSync(join(dir, 'leaf.key'))).export({
        type: 'pkcs8',
        format: 'pem',
      }) as string,
    }
  } finally {
    rmSync(dir, { recursive: true, force: true })
  }
}

const b64u = (value: string | Buffer) => Buffer.from(value).toString('base64url')

/** A compact JWS signed by the chain's leaf (r‖s signature, as JOSE wants). */
export function signJws(
  payload: unknown,
  chain: TestChain,
  header: Record<string, unknown> = {},
  x5c: string[] = chain.x5c,
): string {
  const h = b64u(JSON.stringify({ alg: 'ES256', x5c, ...header }))
  const p = b64u(JSON.stringify(payload))
  const signature = sign('sha256', Buffer.from(`${h}.${p}`), {
    key: chain.leafKeyPem,
    dsaEncoding: 'ieee-p1363',
  })
  return `${h}.${p}.${b64u(signature)}`
}

export function appleTransaction(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const now = Date.now()
  return {
    transactionId: '2000000123456789',
    originalTransactionId: '2000000123456789',
    bundleId: 'ru.gorod.app',
    productId: 'ru.gorod.app.tour.moscow',
    purchaseDate: now - 1000,
    originalPurchaseDate: now - 1000,
    quantity: 1,
    type: 'Non-Consumable',
    inAppOwnershipType: 'PURCHASED',
    signedDate: now,
    environment: 'Production',
    transactionReason: 'PURCHASE',
    storefront: 'RUS',
    storefrontId: '143469',
    price: 299000,
    currency: 'RUB',
    appAccountToken: '7e3fb20b-4cdb-47cc-936d-99d65f608138',
    ...overrides,
  }
}
