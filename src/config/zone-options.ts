/**
 * Per-zone settings in the configuration file, under `zone-options:` keyed by zone name:
 *
 *   zone-options:
 *     example.com:
 *       allow-transfer: ["key xfr", "192.0.2.0/24"]     # who may AXFR/IXFR; default: nobody
 *       notify: ["192.0.2.53", "198.51.100.53:5353 key xfr"]   # told of every new serial (RFC 1996)
 *       transfer-load-balancers: omit                  # or fallback: their fallback pool's addresses
 *       serial-policy: keep                            # or increment, unixtime, dateserial
 */
import { isIP } from 'node:net';
import { Name, NameError } from '../wire/name.js';
import { IpError, parseNetwork, type IpNetwork } from '../wire/ip.js';
import { entries, list, obj, oneOf, str, type Field } from './yaml.js';

/** A client allowed to transfer: holding the key, or from the network (or both, when written `NET key NAME`). */
export interface TransferRule {
  readonly key?: string;
  readonly network?: IpNetwork;
  readonly text: string;
}

export interface NotifyTarget {
  readonly host: string;
  readonly port: number;
  /** The key NOTIFY is signed with (its name's key). */
  readonly key?: string;
  readonly text: string;
}

export const SERIAL_POLICIES = ['keep', 'increment', 'unixtime', 'dateserial'] as const;
export type SerialPolicy = (typeof SERIAL_POLICIES)[number];

export interface ZoneOptions {
  readonly allowTransfer: readonly TransferRule[];
  readonly notify: readonly NotifyTarget[];
  readonly transferLoadBalancers: 'omit' | 'fallback';
  /** Who raises the SOA serial when the file changes: the file (keep) or steerdns (src/xfr/serial.ts). */
  readonly serialPolicy: SerialPolicy;
  /** Where it was written, for messages about it. */
  readonly file: string;
  readonly line: number;
}

export const DEFAULT_ZONE_OPTIONS: ZoneOptions = { allowTransfer: [], notify: [], transferLoadBalancers: 'omit', serialPolicy: 'keep', file: '', line: 0 };

const FIELDS = ['allow-transfer', 'notify', 'transfer-load-balancers', 'serial-policy'];

/** Reads `zone-options:`: zone name key -> options. Key names are checked against the keyring later (checkKeys). */
export function readZoneOptions(f: Field): Map<string, ZoneOptions> | undefined {
  const zones = entries(f);
  if (!zones) return undefined;
  const out = new Map<string, ZoneOptions>();
  for (const { key, value: field } of zones) {
    let zone: Name;
    try {
      zone = Name.fromText(key.endsWith('.') ? key : `${key}.`);
    } catch (e) {
      if (!(e instanceof NameError)) throw e;
      field.error(`"${key}" is not a zone name: ${e.message}`);
      continue;
    }
    const o = obj(field);
    if (!o) continue;
    o.checkFields(FIELDS);
    const strings = (name: string): { text: string; field: Field }[] => {
      const g = o.get(name);
      const items = g ? list(g) : undefined;
      return (items ?? []).flatMap((i) => {
        const text = str(i);
        return text === undefined ? [] : [{ text, field: i }];
      });
    };
    const allowTransfer = strings('allow-transfer').flatMap(({ text, field }) => transferRule(text, field) ?? []);
    const notify = strings('notify').flatMap(({ text, field }) => notifyTarget(text, field) ?? []);
    const tlb = o.get('transfer-load-balancers');
    const sp = o.get('serial-policy');
    out.set(zone.key, {
      allowTransfer,
      notify,
      transferLoadBalancers: (tlb && oneOf(tlb, ['omit', 'fallback'] as const)) ?? 'omit',
      serialPolicy: (sp && oneOf(sp, SERIAL_POLICIES)) ?? 'keep',
      file: field.file,
      line: field.line,
    });
  }
  return out;
}

const KEY = /^key\s+(\S+)$/i;

function transferRule(text: string, f: Field): TransferRule | undefined {
  const t = text.trim();
  const byKey = KEY.exec(t);
  if (byKey) return { key: keyName(byKey[1]), text: t };
  const [net, ...rest] = t.split(/\s+/);
  const withKey = rest.length > 0 ? KEY.exec(rest.join(' ')) : undefined;
  if (rest.length > 0 && !withKey) return f.error(`"${text}": expected "key NAME", a network such as 192.0.2.0/24, or both ("192.0.2.0/24 key NAME")`);
  try {
    return { network: parseNetwork(net), key: withKey ? keyName(withKey[1]) : undefined, text: t };
  } catch (e) {
    if (e instanceof IpError) return f.error(`"${text}": ${e.message.replace(/^"[^"]*": /, '')}: expected "key NAME" or a network such as 192.0.2.0/24`);
    throw e;
  }
}

function notifyTarget(text: string, f: Field): NotifyTarget | undefined {
  const t = text.trim();
  const [address, ...rest] = t.split(/\s+/);
  const withKey = rest.length > 0 ? KEY.exec(rest.join(' ')) : undefined;
  if (rest.length > 0 && !withKey) return f.error(`"${text}": expected ADDRESS[:PORT] with an optional "key NAME"`);
  const m = /^\[([^\]]+)\](?::(\d+))?$/.exec(address) ?? /^([^:]+)(?::(\d+))?$/.exec(address) ?? (isIP(address) === 6 ? [address, address, undefined] : null);
  const host = m?.[1];
  const port = m?.[2] === undefined ? 53 : Number(m[2]);
  if (!host || !isIP(host) || !(port >= 1 && port <= 65535)) return f.error(`"${text}": expected an IP address with an optional port (192.0.2.53, 192.0.2.53:5353, [2001:db8::53]:53)`);
  return { host, port, key: withKey ? keyName(withKey[1]) : undefined, text: t };
}

function keyName(text: string): string {
  return (text.endsWith('.') ? text : `${text}.`).toLowerCase();
}
