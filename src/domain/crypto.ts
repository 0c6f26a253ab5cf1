// Crypto-shredding primitives (AES-256-GCM, node:crypto). Personal fields are sealed under a data
// key per person; data keys are stored wrapped by the master key. Destroying a data key makes
// everything sealed under it unreadable, wherever copies of the ciphertext live.
import { createCipheriv, createDecipheriv, createHash, randomBytes } from 'node:crypto'

const ivBytes = 12
const tagBytes = 16

export class MasterKeyError extends Error {}

/** JOURNEY_MASTER_KEY: 32 bytes as base64 (44 chars) or hex (64 chars). */
export function parseMasterKey(raw: string): Buffer {
  const trimmed = raw.trim()
  const key = /^[0-9a-fA-F]{64}$/.test(trimmed) ? Buffer.from(trimmed, 'hex') : Buffer.from(trimmed, 'base64')
  if (key.length !== 32) throw new MasterKeyError('JOURNEY_MASTER_KEY must be 32 bytes, as 64 hex characters or base64')
  return key
}

export function newKey(): Buffer {
  return randomBytes(32)
}

export function encrypt(key: Buffer, plaintext: Buffer, aad: string): string {
  const iv = randomBytes(ivBytes)
  const cipher = createCipheriv('aes-256-gcm', key, iv)
  cipher.setAAD(Buffer.from(aad))
  const body = Buffer.concat([cipher.update(plaintext), cipher.final()])
  return Buffer.concat([iv, cipher.getAuthTag(), body]).toString('base64')
}

/** Throws when the key is wrong or the ciphertext was tampered with (GCM authenticates both). */
export function decrypt(key: Buffer, sealed: string, aad: string): Buffer {
  const raw = Buffer.from(sealed, 'base64')
  const decipher = createDecipheriv('aes-256-gcm', key, raw.subarray(0, ivBytes))
  decipher.setAAD(Buffer.from(aad))
  decipher.setAuthTag(raw.subarray(ivBytes, ivBytes + tagBytes))
  return Buffer.concat([decipher.update(raw.subarray(ivBytes + tagBytes)), decipher.final()])
}

export function wrapKey(master: Buffer, dataKey: Buffer, aad: string): string {
  return encrypt(master, dataKey, `wrap:${aad}`)
}

export function unwrapKey(master: Buffer, wrapped: string, aad: string): Buffer {
  return decrypt(master, wrapped, `wrap:${aad}`)
}

export function sealJson(key: Buffer, value: unknown, aad: string): string {
  return encrypt(key, Buffer.from(JSON.stringify(value)), aad)
}

export function openJson(key: Buffer, sealed: string, aad: string): unknown {
  return JSON.parse(decrypt(key, sealed, aad).toString())
}

/** A short public fingerprint of a master key, to name it in logs without revealing it. */
export function fingerprint(master: Buffer): string {
  return createHash('sha256').update(master).digest('hex').slice(0, 12)
}

/** Splits a data object into what may be stored in the clear and what must be sealed. */
export function splitPersonal(data: Record<string, unknown>, personal: readonly string[]): { clear: Record<string, unknown>; secret: Record<string, unknown> | null } {
  const clear: Record<string, unknown> = {}
  const secret: Record<string, unknown> = {}
  let any = false
  for (const [k, v] of Object.entries(data)) {
    if (personal.includes(k)) {
      // The field's name stays (as null) so a reader can tell what was there after erasure.
      clear[k] = null
      secret[k] = v
      any = true
    } else {
      clear[k] = v
    }
  }
  return { clear, secret: any ? secret : null }
}
