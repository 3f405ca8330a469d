/**
 * Which server answered: the NSID option (RFC 5001) when a query asks for it, and the CHAOS
 * class TXT names that servers have long answered (RFC 4892 §2.2): id.server. and
 * hostname.bind. give the server id, version.server. and version.bind. the version (refused
 * with `--version-string none`). Every other CHAOS question is refused.
 */
import { Name } from '../wire/name.js';
import { NSID_OPTION } from '../wire/query.js';
import type { RRset } from '../wire/record.js';
import { RCODE, T } from '../wire/types.js';
import type { Identity } from '../snapshot/snapshot.js';

const ID_NAMES = new Set(['id.server.', 'hostname.bind.']);
const VERSION_NAMES = new Set(['version.server.', 'version.bind.']);
const TYPE_ANY = 255;

const nsidOptions = new WeakMap<Identity, Buffer>();

/** The NSID option carrying the server id, encoded once per identity. */
export function nsidOption(identity: Identity): Buffer {
  let option = nsidOptions.get(identity);
  if (option === undefined) {
    const id = Buffer.from(identity.serverId, 'utf8');
    option = Buffer.alloc(4 + id.length);
    option.writeUInt16BE(NSID_OPTION, 0);
    option.writeUInt16BE(id.length, 2);
    id.copy(option, 4);
    nsidOptions.set(identity, option);
  }
  return option;
}

/** The answer to a CHAOS class question: a TXT RRset (TTL 0, as peers send it), or REFUSED. */
export function chaosAnswer(identity: Identity | undefined, qname: Name, qtype: number): RRset | typeof RCODE.REFUSED {
  if (!identity || (qtype !== T.TXT && qtype !== TYPE_ANY)) return RCODE.REFUSED;
  const text = ID_NAMES.has(qname.key) ? identity.serverId : VERSION_NAMES.has(qname.key) ? identity.version : undefined;
  if (text === undefined) return RCODE.REFUSED;
  const bytes = Buffer.from(text, 'utf8').subarray(0, 255);
  const wire = Buffer.concat([Buffer.of(bytes.length), bytes]);
  return { owner: qname, type: T.TXT, ttl: 0, rdatas: [{ wire, names: [] }] };
}
