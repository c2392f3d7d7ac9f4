/**
 * Kademlia records of the mesh (profile 4.4): receipts under `/icn-receipt/<cid>` and provider
 * records for public blocks.
 */
import { CID } from 'multiformats/cid'
import type { SelectFn, ValidateFn } from '@libp2p/kad-dht'
import { isValidCid, verifyReceiptBlock } from '../../shared/protocol/index.js'
import { MeshError } from './errors.js'
import { RECEIPT_NAMESPACE } from './libp2p.js'

const PREFIX = `/${RECEIPT_NAMESPACE}/`
const decoder = new TextDecoder('utf-8', { fatal: true })

export class ReceiptRecordError extends Error {
  override name = 'ReceiptRecordError'
  readonly code = 'InvalidRecord'
}

/** UTF-8 record key of a receipt. */
export function receiptKey (cid: string): Uint8Array {
  if (!isValidCid(cid)) throw new MeshError('InvalidInput', `invalid CID "${cid}"`)
  return new TextEncoder().encode(PREFIX + cid)
}

export function cidFromReceiptKey (key: Uint8Array): string {
  let s: string
  try {
    s = decoder.decode(key)
  } catch {
    throw new ReceiptRecordError('record key is not UTF-8')
  }
  if (!s.startsWith(PREFIX)) throw new ReceiptRecordError(`record key "${s}" is not in the ${RECEIPT_NAMESPACE} namespace`)
  const cid = s.slice(PREFIX.length)
  if (!isValidCid(cid)) throw new ReceiptRecordError(`record key names an invalid CID "${cid}"`)
  return cid
}

/** Record validator: the value must be a signed receipt block whose dag-cbor CID is the key's CID. */
export const receiptValidator: ValidateFn = (key, value) => {
  const cid = cidFromReceiptKey(key)
  const r = verifyReceiptBlock(value, cid)
  if (!r.ok) throw new ReceiptRecordError(`receipt record for ${cid} refused: ${r.reason}: ${r.detail}`)
}

/** Record selector: the first record that validates (valid records for one key are byte-identical). */
export const receiptSelector: SelectFn = (key, records) => {
  let cid: string
  try {
    cid = cidFromReceiptKey(key)
  } catch {
    return 0
  }
  const i = records.findIndex((r) => verifyReceiptBlock(r, cid).ok)
  return i < 0 ? 0 : i
}

export function toCid (cid: string): CID {
  try {
    return CID.parse(cid)
  } catch {
    throw new MeshError('InvalidInput', `invalid CID "${cid}"`)
  }
}
