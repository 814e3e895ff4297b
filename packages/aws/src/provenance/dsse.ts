/**
 * The DSSE envelope (https://github.com/secure-systems-lab/dsse) the provenance statement is
 * signed in: the signature covers PAE(payloadType, payload), so the payload type is signed too.
 * Signed with the build provenance KMS key (ECDSA_SHA_256), checked with its public key.
 */
import type { EvidenceKeys } from '../kms';

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';

export interface Envelope {
  payloadType: string;
  /** base64 of the statement's bytes. */
  payload: string;
  signatures: Array<{ keyid: string; sig: string }>;
}

/** DSSE's pre-authentication encoding: "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body. */
export function pae(payloadType: string, body: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${body.length} `), body]);
}

export async function signEnvelope(keys: Pick<EvidenceKeys, 'sign'>, keyArn: string, statement: Buffer): Promise<Envelope> {
  const sig = await keys.sign(keyArn, pae(IN_TOTO_PAYLOAD_TYPE, statement));
  return { payloadType: IN_TOTO_PAYLOAD_TYPE, payload: statement.toString('base64'), signatures: [{ keyid: keyArn, sig: sig.toString('base64') }] };
}

/** The statement's bytes when one signature verifies with `verify` (the configured key), else why not. */
export function openEnvelope(bytes: Buffer, verify: (message: Buffer, signature: Buffer) => boolean): Buffer | string {
  let e: Partial<Envelope>;
  try {
    e = JSON.parse(bytes.toString('utf8')) as Partial<Envelope>;
  } catch {
    return 'the envelope is not JSON';
  }
  if (e?.payloadType !== IN_TOTO_PAYLOAD_TYPE || typeof e.payload !== 'string' || !Array.isArray(e.signatures)) {
    return `the envelope is not a DSSE envelope of ${IN_TOTO_PAYLOAD_TYPE}`;
  }
  const body = Buffer.from(e.payload, 'base64');
  const message = pae(e.payloadType, body);
  const valid = e.signatures.some((s) => {
    try {
      return typeof s?.sig === 'string' && verify(message, Buffer.from(s.sig, 'base64'));
    } catch {
      return false;
    }
  });
  return valid ? body : 'its signature does not verify with the provenance key';
}
