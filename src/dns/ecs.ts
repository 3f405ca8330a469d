/**
 * EDNS Client Subnet (RFC 7871): parsing and validating the option of a query. The response
 * echoes it with the SCOPE PREFIX-LENGTH the answer really depended on (MessageWriter.opt).
 */

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
}

export class EcsError extends Error {}

/**
 * Validates the option data. RFC 7871 §7.2.1: a wrongly formatted option (unknown family, a
 * source prefix longer than the address, too few or too many address octets, address bits set
 * beyond the source prefix) is rejected with FORMERR. A non-zero SCOPE in a query (§6: "MUST
 * be set to 0") is ignored, as most servers do.
 */
export function parseEcs(data: Buffer): ClientSubnet {
  if (data.length < 4) throw new EcsError('ECS option shorter than 4 octets');
  const family = data.readUInt16BE(0);
  if (family !== FAMILY_IPV4 && family !== FAMILY_IPV6) throw new EcsError(`ECS family ${family} is neither IPv4 (1) nor IPv6 (2)`);
  const bits = family === FAMILY_IPV4 ? 32 : 128;
  const sourcePrefix = data[2];
  if (sourcePrefix > bits) throw new EcsError(`ECS source prefix ${sourcePrefix} is longer than an ${family === 1 ? 'IPv4' : 'IPv6'} address`);
  const addressOctets = data.length - 4;
  const octets = Math.ceil(sourcePrefix / 8);
  if (addressOctets !== octets) throw new EcsError(`ECS address has ${addressOctets} octets, source prefix ${sourcePrefix} needs ${octets}`);
  if (octets > 0 && sourcePrefix % 8 !== 0 && (data[4 + octets - 1] & (0xff >> (sourcePrefix % 8))) !== 0) {
    throw new EcsError(`ECS address has bits set beyond the source prefix ${sourcePrefix}`);
  }
  return new Subnet(family, sourcePrefix, data);
}

/** A parsed option; the address text is made when first asked for (steering often needs only the number). */
class Subnet implements ClientSubnet {
  readonly v4: number;
  private text: string | undefined;

  constructor(
    readonly family: 1 | 2,
    readonly sourcePrefix: number,
    readonly data: Buffer,
  ) {
    let v4 = -1;
    if (family === FAMILY_IPV4) {
      // Octets the option leaves out are zero.
      v4 = 0;
      for (let i = 0; i < 4; i++) v4 = v4 * 256 + (4 + i < data.length ? data[4 + i] : 0);
    }
    this.v4 = v4;
  }

  get address(): string {
    this.text ??= addressText(this.data.subarray(4), this.family === FAMILY_IPV4 ? 4 : 16);
    return this.text;
  }
}

/** The address as text, octets the option leaves out being zero (no copy made). */
function addressText(b: Buffer, octets: 4 | 16): string {
  const at = (i: number) => (i < b.length ? b[i] : 0);
  if (octets === 4) return `${at(0)}.${at(1)}.${at(2)}.${at(3)}`;
  let text = '';
  for (let i = 0; i < 16; i += 2) text += (i ? ':' : '') + ((at(i) << 8) | at(i + 1)).toString(16);
  return text;
}
