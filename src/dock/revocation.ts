/**
 * Withdrawing a camera for good: its client certificate goes on the dock site's certificate revocation list (CRL),
 * which the broker checks at every TLS handshake (`crlfile`), so a lost or stolen camera cannot even connect, not
 * only be ignored by the agent. The dock keeps the withdrawals as its own record (`pki/withdrawals.jsonl`: who, which
 * certificate, when, why) and issues the CRL from it with `openssl ca -gencrl`, whose database (index.txt) is written
 * fresh from that record each time: nothing of openssl's state is trusted between two issues.
 *
 * The CRL is valid as long as the CA (a CRL past its next-update date would make OpenSSL refuse every camera, not
 * only the withdrawn ones). Mosquitto re-reads it on SIGHUP (checked with Debian's 2.0.11: a revoked certificate is
 * refused from the reload on, other clients stay connected), which `bodycam dock run` sends when the file changes.
 */
import { X509Certificate } from 'node:crypto';
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { BodycamError, ErrorCode, errnoCode } from '../lib/errors.ts';
import { DEVICE_ID } from '../lib/ids.ts';
import type { DockLayout } from './layout.ts';
import { CA_DAYS, type FileAccess, type Openssl, writeProtected } from './pki.ts';

/** One withdrawn certificate, as `pki/withdrawals.jsonl` records it (one JSON object per line). */
export interface Withdrawal {
  device: string;
  /** The certificate's serial number, upper-case hex, an even number of digits (as openssl's database writes it). */
  serial: string;
  /** The certificate's end of validity (ISO 8601). */
  notAfter: string;
  /** When it was withdrawn (ISO 8601, the dock's clock). */
  at: string;
  reason: string;
}

const SERIAL = /^(?:[0-9A-F]{2})+$/;
const MAX_REASON = 1000;

/** The serial of a certificate as openssl's database writes it (Node gives it in hex, possibly of odd length). */
export function serialHex(serialNumber: string): string {
  const hex = serialNumber.replace(/:/g, '').toUpperCase();
  return hex.length % 2 === 0 ? hex : `0${hex}`;
}

/** Why `reason` cannot be recorded, or undefined. A reason is what a custodian reads later: one line, not empty. */
export function reasonProblem(reason: string): string | undefined {
  if (reason.trim() === '') return 'give the reason for the withdrawal (e.g. "reported stolen, PV 123/2026")';
  if ([...reason].some((c) => c.charCodeAt(0) < 0x20 || c === '\u007f'))
    return 'the reason must be one line of text, without control characters';
  if (reason.length > MAX_REASON) return `the reason is longer than ${MAX_REASON} characters`;
  return undefined;
}

/** The withdrawals of `text` (pki/withdrawals.jsonl); a line that is not one is named with its number (CONFIG_INVALID). */
export function parseWithdrawals(text: string, file: string): Withdrawal[] {
  const out: Withdrawal[] = [];
  text.split('\n').forEach((line, i) => {
    if (line.trim() === '') return;
    const bad = (why: string): never => {
      throw new BodycamError(ErrorCode.CONFIG_INVALID, `${file} line ${i + 1}: ${why}`, { key: 'withdrawals' });
    };
    let v: unknown;
    try {
      v = JSON.parse(line);
    } catch {
      bad('not JSON');
    }
    const w = v as Partial<Withdrawal>;
    if (typeof w !== 'object' || w === null) bad('not an object');
    if (typeof w.device !== 'string' || !DEVICE_ID.test(w.device)) bad('no valid device id');
    if (typeof w.serial !== 'string' || !SERIAL.test(w.serial)) bad('no serial number in upper-case hex');
    for (const key of ['notAfter', 'at'] as const) {
      if (typeof w[key] !== 'string' || Number.isNaN(Date.parse(w[key] as string))) bad(`${key} is not a date`);
    }
    if (typeof w.reason !== 'string') bad('no reason');
    out.push({
      device: w.device as string,
      serial: w.serial as string,
      notAfter: w.notAfter as string,
      at: w.at as string,
      reason: w.reason as string,
    });
  });
  return out;
}

/** An ASN.1 time as openssl's database writes it: YYMMDDHHMMSSZ before 2050, YYYYMMDDHHMMSSZ from then on. */
export function asn1Time(iso: string): string {
  const d = new Date(iso);
  const digits = d.toISOString().replace(/[-:T]/g, '').slice(0, 14);
  return d.getUTCFullYear() < 2050 ? `${digits.slice(2)}Z` : `${digits}Z`;
}

/** openssl ca's database (index.txt) listing every withdrawn certificate as revoked, one line each, serials once. */
export function crlIndexText(withdrawals: readonly Withdrawal[]): string {
  const seen = new Set<string>();
  const lines: string[] = [];
  for (const w of withdrawals) {
    if (seen.has(w.serial)) continue;
    seen.add(w.serial);
    lines.push(['R', asn1Time(w.notAfter), asn1Time(w.at), w.serial, 'unknown', `/CN=${w.device}`].join('\t'));
  }
  return lines.length === 0 ? '' : `${lines.join('\n')}\n`;
}

/** The openssl ca configuration for issuing the CRL from the database in `workDir`. */
export function crlConfText(workDir: string): string {
  return [
    '[ ca ]',
    'default_ca = dock',
    '[ dock ]',
    `database = ${path.join(workDir, 'index.txt')}`,
    `crlnumber = ${path.join(workDir, 'crlnumber')}`,
    'unique_subject = no',
    'default_md = sha256',
    `default_crl_days = ${CA_DAYS}`,
    '',
  ].join('\n');
}

/** `openssl ca -gencrl` for the CA in `pki`, the CRL (PEM) on stdout. */
export function gencrlArgs(confFile: string, caKey: string, caCert: string): string[] {
  return ['ca', '-gencrl', '-config', confFile, '-keyfile', caKey, '-cert', caCert, '-batch'];
}

/** The withdrawals recorded at the dock (none when the file does not exist). */
export async function readWithdrawals(layout: DockLayout): Promise<Withdrawal[]> {
  const text = await readFile(layout.pki.withdrawals, 'utf8').catch((e: unknown) => {
    if (errnoCode(e) === 'ENOENT') return '';
    throw e;
  });
  return parseWithdrawals(text, layout.pki.withdrawals);
}

/**
 * Issues the CRL for `withdrawals` and writes it to `pki/crl.pem` with `access` (the broker must read it), replacing
 * the old one in one rename. The CRL number grows with every withdrawal, so a newer list always has a higher number.
 */
export async function issueCrl(
  ssl: Openssl,
  layout: DockLayout,
  withdrawals: readonly Withdrawal[],
  access: FileAccess,
): Promise<void> {
  const work = path.join(layout.pki.dir, 'crl.work');
  await rm(work, { recursive: true, force: true });
  await mkdir(work, { mode: 0o700 });
  try {
    await writeFile(path.join(work, 'index.txt'), crlIndexText(withdrawals), { mode: 0o600 });
    await writeFile(path.join(work, 'crlnumber'), `${(withdrawals.length + 1).toString(16).padStart(2, '0')}\n`, {
      mode: 0o600,
    });
    const conf = path.join(work, 'openssl.cnf');
    await writeFile(conf, crlConfText(work), { mode: 0o600 });
    const pem = await ssl.run(gencrlArgs(conf, layout.pki.caKey, layout.pki.caCert));
    await writeProtected(layout.pki.crl, pem, access, false);
  } finally {
    await rm(work, { recursive: true, force: true });
  }
}

/** The certificate a camera was enrolled with: its serial and end of validity. */
export async function enrolledCertificate(file: string): Promise<{ serial: string; notAfter: string }> {
  const cert = new X509Certificate(await readFile(file));
  return { serial: serialHex(cert.serialNumber), notAfter: new Date(cert.validTo).toISOString() };
}
