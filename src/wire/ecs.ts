/**
 * EDNS Client Subnet (RFC 7871): parsing and validating the option of a query. The response
 * echoes it with the SCOPE PREFIX-LENGTH the answer really depended on (writeOpt).
 */
import { copyBytes } from './bytes.js';

/** RFC 7871 §6: option code 8. */
export const ECS_OPTION = 8;
const FAMILY_IPV4 = 1;
const FAMILY_IPV6 = 2;

export interface ClientSubnet {
  readonly family: 1 | 2;
  /** SOURCE PREFIX-LENGTH: how many leading bits of the client address the resolver sent. */
  readonly sourcePrefix: number;
  /** The address as text, bits beyond the source prefix zero ("198.51.100.0"). */
  readonly address: string;
  /** An IPv4 address as an unsigned 32-bit number; -1 for IPv6. */
  readonly v4: number;
  /** The option data as received: FAMILY, SOURCE PREFIX-LENGTH and ADDRESS are echoed from it. */
  readonly data: Buffer;
  /** Octets of the option data. */
  readonly length: number;
  /** Copies the option data to `b` at `at` (the echo in the response; no view of the query is made). */
  copyTo(b: Buffer, at: number): void;
}

export class EcsError extends Error {}

/**
 * Validates the option data, `msg[start, end)`. RFC 7871 §7.2.1: a wrongly formatted option
 * (unknown family, a source prefix longer than the address, too few or too many address
 * octets, address bits set beyond the source prefix) is rejected with FORMERR. A non-zero
 * SCOPE in a query (§6: "MUST be set to 0") is ignored, as most servers do.
 */
export function parseEcs(msg: Buffer, start = 0, end = msg.length): ClientSubnet {
  const length = end - start;
  if (length < 4) throw new EcsError('ECS option shorter than 4 octets');
  const family = (msg[start] << 8) | msg[start + 1];
  if (family !== FAMILY_IPV4 && family !== FAMILY_IPV6) throw new EcsError(`ECS family ${family} is neither IPv4 (1) nor IPv6 (2)`);
  const bits = family === FAMILY_IPV4 ? 32 : 128;
  const sourcePrefix = msg[start + 2];
  if (sourcePrefix > bits) throw new EcsError(`ECS source prefix ${sourcePrefix} is longer than an ${family === 1 ? 'IPv4' : 'IPv6'} address`);
  const addressOctets = length - 4;
  const octets = Math.ceil(sourcePrefix / 8);
  if (addressOctets !== octets) throw new EcsError(`ECS address has ${addressOctets} octets, source prefix ${sourcePrefix} needs ${octets}`);
  if (octets > 0 && sourcePrefix % 8 !== 0 && (msg[start + 4 + octets - 1] & (0xff >> (sourcePrefix % 8))) !== 0) {
    throw new EcsError(`ECS address has bits set beyond the source prefix ${sourcePrefix}`);
  }
  return new Subnet(family, sourcePrefix, msg, start, length);
}

/**
 * A parsed option, read where it lies in the query (`msg` from `start`): a view of it and the
 * address text are made only when asked for (steering often needs only the number).
 */
class Subnet implements ClientSubnet {
  readonly v4: number;
  private text: string | undefined;

  constructor(
    readonly family: 1 | 2,
    readonly sourcePrefix: number,
    private readonly msg: Buffer,
    private readonly start: number,
    readonly length: number,
  ) {
    let v4 = -1;
    if (family === FAMILY_IPV4) {
      v4 = 0;
      for (let i = 0; i < 4; i++) v4 = v4 * 256 + this.addressOctet(i);
    }
    this.v4 = v4;
  }

  get data(): Buffer {
    return this.msg.subarray(this.start, this.start + this.length);
  }

  get address(): string {
    if (this.text === undefined) {
      const at = (i: number) => this.addressOctet(i);
      if (this.family === FAMILY_IPV4) {
        this.text = `${at(0)}.${at(1)}.${at(2)}.${at(3)}`;
      } else {
        let text = '';
        for (let i = 0; i < 16; i += 2) text += (i ? ':' : '') + ((at(i) << 8) | at(i + 1)).toString(16);
        this.text = text;
      }
    }
    return this.text;
  }

  copyTo(b: Buffer, at: number): void {
    copyBytes(this.msg, this.start, this.start + this.length, b, at);
  }

  /** Octet i of the address; those the option leaves out are zero. */
  private addressOctet(i: number): number {
    return 4 + i < this.length ? this.msg[this.start + 4 + i] : 0;
  }
}
