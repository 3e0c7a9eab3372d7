/**
 * The console's incident routes, all behind a session (server.ts checks it first): the list (`GET /`), an incident's
 * page, its forms (access, authorise, share: CSRF-checked by the server), and its footage for a running grant only:
 * `GET …/segments.json` (logged as a view) and `GET …/segments/<file>` (the stored age ciphertext, streamed as it is:
 * nothing here can open it). A name in a path that is not a key part, an incident the reader's organisation may not
 * see, or footage without a grant is refused, and the refusal logged.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Readable } from 'node:stream';
import { keyPartProblem, parseEvidenceKey } from '../../evidence/object-keys.ts';
import { ErrorCode, isBodycamError } from '../../lib/errors.ts';
import type { ObjectStore } from '../../store/port.ts';
import type { IncidentRef } from '../access/records.ts';
import type { CustodyService } from '../access/service.ts';
import { PLAYER_CSP, playerPage } from '../console/player-page.ts';
import type { TouchedObject } from '../custody-record.ts';
import { listIncidents } from '../index/query.ts';
import type { IncidentRow } from '../index/schema.ts';
import type { SqlClient } from '../index/sql.ts';
import { incidentPage, incidentPath, type ListFilter, listPage } from './incident-pages.ts';
import { Counter, type LimitRule, REFUSAL_RULE } from './login-limit.ts';
import type { Session } from './sessions.ts';

/** What the routes need of the server: answers with its security headers, refusals it logs, capped forms. */
export interface Http {
  send(res: ServerResponse, status: number, body: string, headers?: Record<string, string>): void;
  sendStream(res: ServerResponse, body: Readable, type: string, length: number): void;
  refuse(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    why: string,
    headers?: Record<string, string>,
  ): void;
  /** The request's form when its CSRF token is the session's (null: already answered). */
  form(req: IncomingMessage, res: ServerResponse, s: Session): Promise<URLSearchParams | null>;
}

export interface IncidentRoutesOptions {
  custody: CustodyService;
  db: SqlClient;
  store: ObjectStore;
  prefix: string;
  now?: () => number;
  /** Refused requests allowed per account before it waits (login-limit.ts REFUSAL_RULE by default). */
  refusals?: LimitRule;
}

const ROUTE =
  /^\/incidents\/([^/]+)\/([^/]+)\/([^/]+)(?:\/(access|authorise|share|hold|segments\.json|play)|\/segments\/([^/]+))?$/;

/** A path part percent-decoded, or null when its encoding is malformed (`%E0%A4%A`). */
function decoded(part: string): string | null {
  try {
    return decodeURIComponent(part);
  } catch {
    return null;
  }
}

export class IncidentRoutes {
  readonly #o: IncidentRoutesOptions;
  readonly #http: Http;
  readonly #refusals: Counter;
  readonly #now: () => number;

  constructor(o: IncidentRoutesOptions, http: Http) {
    this.#o = o;
    this.#http = http;
    this.#refusals = new Counter(o.refusals ?? REFUSAL_RULE);
    this.#now = o.now ?? Date.now;
  }

  /** Answers the request if it is one of these routes; false when it is not. */
  async handle(req: IncomingMessage, res: ServerResponse, s: Session, url: URL): Promise<boolean> {
    if (url.pathname === '/' && req.method === 'GET') {
      await this.#list(res, s, url);
      return true;
    }
    const m = ROUTE.exec(url.pathname);
    if (m === null) return false;
    const parts = [m[1], m[2], m[3], m[5]].filter((x): x is string => x !== undefined).map(decoded);
    if (parts.some((p) => p === null || keyPartProblem(p) !== undefined)) {
      this.#http.refuse(req, res, 404, 'no such incident');
      return true;
    }
    const [organisation = '', device = '', incident = '', file] = parts as string[];
    const ref: IncidentRef = { organisation, device, incident };
    const action = m[4] ?? (file === undefined ? 'page' : 'segment');
    const post = ['access', 'authorise', 'share', 'hold'].includes(action);
    if (req.method !== (post ? 'POST' : 'GET')) {
      this.#http.refuse(req, res, 405, `${req.method} is not allowed here`);
      return true;
    }
    const row = await this.#o.custody.incident(ref);
    // An incident the index does not hold is refused in the service's log only: writing it to the custody log would
    // let anyone logged in make locked records, for ten years, under any organisation name they type.
    if (row === null) {
      this.#http.refuse(req, res, 404, 'no such incident');
      return true;
    }
    const visible = await this.#visible(s, ref);
    // Anything that may end in a refusal written to the custody log waits while the account is over its allowance.
    const wait = action === 'page' && visible ? 0 : this.#refusals.waitMs(s.account.name, this.#now());
    if (wait > 0) {
      const retry = String(Math.ceil(wait / 1000));
      this.#http.refuse(req, res, 429, `too many refused requests: try again in ${retry} s`, { 'Retry-After': retry });
      return true;
    }
    let refused: boolean;
    if (!visible) {
      await this.#o.custody.refused(s.account, ref, action, 'not an incident your organisation may see');
      this.#http.refuse(req, res, 404, 'no such incident');
      refused = true;
    } else if (action === 'page') {
      await this.#page(res, s, ref, row, '', await this.#o.custody.liveGrant(s.account, ref));
      refused = false;
    } else if (post) refused = await this.#act(req, res, s, ref, row, action);
    else refused = await this.#footage(req, res, s, ref, action, file);
    if (refused) this.#refusals.failed(s.account.name, this.#now());
    return true;
  }

  async #list(res: ServerResponse, s: Session, url: URL): Promise<void> {
    const f: ListFilter = {
      device: url.searchParams.get('device') ?? '',
      from: url.searchParams.get('from') ?? '',
      to: url.searchParams.get('to') ?? '',
    };
    const filter = {
      ...(f.device === '' ? {} : { device: f.device }),
      ...(f.from === '' ? {} : { from: f.from }),
      ...(f.to === '' ? {} : { to: f.to }),
    };
    try {
      const own = await listIncidents(this.#o.db, { ...filter, organisation: s.account.organisation });
      const shared: IncidentRow[] = [];
      for (const r of await this.#o.custody.records.sharedWith(s.account.organisation)) {
        const rows = await listIncidents(this.#o.db, { ...filter, organisation: r.organisation });
        shared.push(...rows.filter((x) => x.device === r.device && x.incident === r.incident));
      }
      this.#http.send(res, 200, listPage(s.account, s.csrf, [...own, ...shared], f));
    } catch (e) {
      if (!isBodycamError(e, ErrorCode.USAGE)) throw e;
      this.#http.send(res, 400, listPage(s.account, s.csrf, [], f, e.message));
    }
  }

  /** The reader's organisation recorded it, or it was shared with it. */
  async #visible(s: Session, ref: IncidentRef): Promise<boolean> {
    if (s.account.organisation === ref.organisation) return true;
    const shares = await this.#o.custody.records.shares(ref);
    return shares.some((x) => x.withOrganisation === s.account.organisation);
  }

  async #page(
    res: ServerResponse,
    s: Session,
    ref: IncidentRef,
    row: IncidentRow,
    message: string,
    grant: Awaited<ReturnType<CustodyService['liveGrant']>>,
    status = 200,
  ): Promise<void> {
    const history = await this.#o.custody.history(ref);
    const policy = this.#o.custody.policyOf(ref.organisation);
    const html = incidentPage({ account: s.account, csrf: s.csrf, ref, row, history, grant, policy, message });
    this.#http.send(res, status, html);
  }

  /** Answers a form; true when it was refused (and the refusal logged). */
  async #act(
    req: IncomingMessage,
    res: ServerResponse,
    s: Session,
    ref: IncidentRef,
    row: IncidentRow,
    action: string,
  ): Promise<boolean> {
    const form = await this.#http.form(req, res, s);
    if (form === null) return false;
    const reason = form.get('reason') ?? '';
    const c = this.#o.custody;
    let message: string;
    let status = 200;
    try {
      if (action === 'access') {
        const auth = (form.get('authorisation') ?? '').trim();
        const out = await c.request(s.account, ref, reason, auth === '' ? undefined : auth);
        message = out.decision.granted ? `Access granted (${out.decision.basis}).` : `Refused: ${out.decision.why}.`;
        if (!out.decision.granted) status = 403;
      } else if (action === 'authorise') {
        const untilText = form.get('until') ?? '';
        const until = untilText === '' ? null : Date.parse(untilText);
        if (Number.isNaN(until)) {
          // Never read as "no end": a decision whose end cannot be read is not recorded.
          message = `Not recorded: "${untilText}" is not a date.`;
          status = 400;
        } else {
          await c.authorise(s.account, ref, form.get('reference') ?? '', reason, until);
          message = 'Decision recorded.';
        }
      } else if (action === 'hold') {
        const on = form.get('on') === '1';
        const objects = await c.hold(s.account, ref, on, reason);
        message = `Legal hold ${on ? 'set on' : 'released from'} ${objects.length} stored object version(s).`;
        row.held = on;
      } else {
        await c.share(s.account, ref, (form.get('with') ?? '').trim(), reason);
        message = 'Shared.';
      }
    } catch (e) {
      if (!isBodycamError(e, ErrorCode.ACCESS_REFUSED)) throw e;
      message = `Refused: ${e.message}.`;
      status = 403;
    }
    await this.#page(res, s, ref, row, message, await c.liveGrant(s.account, ref), status);
    return status === 403;
  }

  /** Serves footage under a running grant; true when refused for want of one (and the refusal logged). */
  async #footage(
    req: IncomingMessage,
    res: ServerResponse,
    s: Session,
    ref: IncidentRef,
    action: string,
    file: string | undefined,
  ): Promise<boolean> {
    const c = this.#o.custody;
    const grant = await c.liveGrant(s.account, ref);
    if (grant === null) {
      await c.refused(s.account, ref, action, 'no running grant: ask for access first');
      this.#http.refuse(req, res, 403, 'no running grant on this incident: ask for access first');
      return true;
    }
    const segments = await this.#segments(ref);
    if (action === 'segments.json' || action === 'play') {
      if (action === 'play') {
        const page = playerPage({
          title: `Incident ${ref.incident} (${ref.device})`,
          segmentsUrl: `${incidentPath(ref)}/segments.json`,
          csrf: s.csrf,
        });
        this.#http.send(res, 200, page, { 'Content-Security-Policy': PLAYER_CSP });
        return false;
      }
      await c.used(
        s.account,
        grant,
        'view',
        segments.map(({ key, versionId }) => ({ key, versionId })),
      );
      const base = `${incidentPath(ref)}/segments/`;
      const list = segments.map((x, i) => ({ seq: i + 1, url: `${base}${encodeURIComponent(x.file)}`, bytes: x.size }));
      this.#http.send(res, 200, JSON.stringify({ incident: ref.incident, segments: list }));
      return false;
    }
    const found = segments.find((x) => x.file === file);
    if (found === undefined) {
      this.#http.refuse(req, res, 404, 'no such segment');
      return false;
    }
    this.#http.sendStream(
      res,
      await this.#o.store.get(found.key, found.versionId),
      'application/octet-stream',
      found.size,
    );
    return false;
  }

  /** The incident's segment objects (latest versions), in file order. */
  async #segments(ref: IncidentRef): Promise<Array<TouchedObject & { file: string; size: number }>> {
    const root = { prefix: this.#o.prefix, organisation: ref.organisation };
    const base = `${root.prefix === '' ? '' : `${root.prefix}/`}${ref.organisation}/${ref.device}/${ref.incident}/`;
    const out: Array<TouchedObject & { file: string; size: number }> = [];
    for await (const v of this.#o.store.listVersions(base)) {
      if (v.deleteMarker || !v.isLatest) continue;
      const k = parseEvidenceKey(root, v.key);
      if (k.kind === 'segment') out.push({ key: v.key, versionId: v.versionId, file: k.file, size: v.size });
    }
    return out.sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0));
  }
}
