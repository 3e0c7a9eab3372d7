/**
 * `bodycam dock withdraw --dir DOCKDIR --device ID --reason TEXT`: a lost, stolen or retired camera is withdrawn for
 * good. In this order, so that a failure part-way leaves the camera at least as withdrawn as before and a second run
 * finishes the job: the withdrawal is recorded (pki/withdrawals.jsonl: device, certificate serial, when, why); the
 * enrolment record moves to `withdrawn/<id>-<time>/` (the dock agent ignores the camera from its next message and
 * signs it no receipt); the revocation list is issued again (the running dock makes its broker re-read it, so the
 * camera's certificate is refused at its next connection, at this dock's broker, while every other camera stays
 * connected). Enrolling the camera again issues it a new certificate; the withdrawn one stays revoked.
 */
import { mkdir, rename, stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { deviceFiles, dockLayout, loadDockConfig } from '../dock/layout.ts';
import { type FileAccess, Openssl } from '../dock/pki.ts';
import { enrolledCertificate, issueCrl, readWithdrawals, reasonProblem, type Withdrawal } from '../dock/revocation.ts';
import { NodeProcessRunner } from '../hal/process/node.ts';
import { BodycamError, ErrorCode, errnoCode } from '../lib/errors.ts';
import { appendLinesDurably, fsyncDir } from '../lib/fs.ts';
import { DEVICE_ID } from '../lib/ids.ts';

export interface WithdrawOptions {
  dir: string;
  device: string;
  reason: string;
  /** The dock's wall clock (ms); tests pass their own. */
  now?: () => number;
}

/** Withdraws the camera; returns the lines for the operator. */
export async function dockWithdraw(o: WithdrawOptions): Promise<string[]> {
  if (!DEVICE_ID.test(o.device)) throw new BodycamError(ErrorCode.USAGE, `--device: "${o.device}" is not a device id`);
  const problem = reasonProblem(o.reason);
  if (problem !== undefined) throw new BodycamError(ErrorCode.USAGE, `--reason: ${problem}`);
  const l = dockLayout(o.dir);
  const config = loadDockConfig(l.dir);
  const files = deviceFiles(l.dir, o.device);
  const earlier = (await readWithdrawals(l)).filter((w) => w.device === o.device);
  const out: string[] = [];
  const cert = await enrolledCertificate(files.cert).catch((e: unknown) => {
    if (errnoCode(e) === 'ENOENT') return null;
    throw e;
  });
  if (cert === null) {
    const last = earlier.at(-1);
    if (last === undefined) {
      throw new BodycamError(ErrorCode.USAGE, `${o.device} is not enrolled at ${l.dir} (no ${files.cert})`);
    }
    out.push(`${o.device} was already withdrawn at ${last.at}: ${last.reason}`);
  } else {
    const at = new Date((o.now ?? Date.now)()).toISOString();
    const record: Withdrawal = { device: o.device, serial: cert.serial, notAfter: cert.notAfter, at, reason: o.reason };
    await writeFile(l.pki.withdrawals, '', { flag: 'a', mode: 0o600 });
    await appendLinesDurably(l.pki.withdrawals, `${JSON.stringify(record)}\n`);
    await mkdir(l.withdrawnDir, { recursive: true, mode: 0o700 });
    const kept = path.join(l.withdrawnDir, `${o.device}-${at.replace(/[-:.]/g, '')}`);
    await rename(files.dir, kept);
    await fsyncDir(path.dirname(files.dir));
    out.push(
      `${o.device} withdrawn at ${at}: ${o.reason}`,
      `  the dock ignores it from its next message and signs it no receipt; its enrolment record is kept in ${kept}`,
    );
  }
  // Issued again every time (also on a second run after a failure here): the list always matches the record.
  await issueCrl(new Openssl(new NodeProcessRunner()), l, await readWithdrawals(l), await brokerAccess(l));
  out.push(
    `  certificate ${cert?.serial ?? earlier.at(-1)?.serial} revoked: ${l.pki.crl}`,
    config.broker === 'managed'
      ? '  the running dock makes its broker re-read the list within 2 s: the camera cannot connect, others stay'
      : "  the broker is the site's own: make it re-read the list (`systemctl reload mosquitto` or `kill -HUP` its pid)",
    `  to enrol it again (a new certificate): bodycam dock enroll --dir ${l.dir} --device-config CAMERA/config.json`,
  );
  return out;
}

/** The list is read by the broker as the CA certificate is: the same group and mode as ca.crt. */
async function brokerAccess(l: ReturnType<typeof dockLayout>): Promise<FileAccess> {
  const st = await stat(l.pki.caCert);
  return { mode: st.mode & 0o644, gid: st.gid };
}

/** `bodycam dock withdraw` */
export async function dockWithdrawCommand(o: { dir: string; device: string; reason: string }): Promise<void> {
  process.stdout.write(`${(await dockWithdraw(o)).join('\n')}\n`);
}
