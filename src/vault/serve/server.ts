/**
 * The custody service's HTTP front (`bodycam vault serve`), first slice: logging in and out. No anonymous access:
 * every page but the login form needs a session (sessions.ts); every state-changing request needs the session's CSRF
 * token and, when the browser sends one, an Origin that is ours; failed logins are limited per name and per address
 * (login-limit.ts) and answered alike for an unknown name and a wrong password. Every response carries the security
 * headers (a CSP without inline script or style, no framing, no sniffing, no caching, no referrer; HSTS over TLS).
 * Request bodies are capped; every refusal is logged. The pages are plain HTML forms: no script is needed to log in.
 */
import { createServer as createHttpServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { createServer as createHttpsServer } from 'node:https';
import type { AddressInfo } from 'node:net';
import type { Readable } from 'node:stream';
import { BodycamError, ErrorCode } from '../../lib/errors.ts';
import { securityHeaders } from '../../lib/html.ts';
import type { Logger } from '../../lib/logger.ts';
import type { Accounts } from '../accounts/accounts.ts';
import { consoleAsset } from '../console/assets.ts';
import { escapeHtml, page } from './html.ts';
import { IncidentRoutes, type IncidentRoutesOptions } from './incident-routes.ts';
import { LoginLimits } from './login-limit.ts';
import { type Session, Sessions } from './sessions.ts';

export interface ServeOptions {
  accounts: Accounts;
  log: Logger;
  host: string;
  port: number;
  /** PEM certificate and key: served over HTTPS, cookies Secure, HSTS. Without: plain HTTP (loopback only). */
  tls?: { cert: string; key: string };
  now?: () => number;
  limits?: LoginLimits;
  /** The incidents, their access and their footage (vault.json's store); without: logging in and out only. */
  incidents?: IncidentRoutesOptions;
}

export const SESSION_COOKIE = 'bodycam_session';
const MAX_FORM_BYTES = 8 * 1024;

// The shared headers (src/lib/html.ts) with forms posting only here. Not `no-referrer`: under it a browser sends
// `Origin: null` with its own forms, and the Origin check (#foreign) would refuse every login.
const SECURITY_HEADERS = securityHeaders(["form-action 'self'"]);

function loginPage(message: string): string {
  const note = message === '' ? '' : `<p role="alert">${escapeHtml(message)}</p>\n`;
  return page(
    'Log in',
    `<h1>bodycam vault</h1>\n${note}<form method="post" action="/login">
<label>Name <input name="name" autocomplete="username" required></label>
<label>Password <input name="password" type="password" autocomplete="current-password" required></label>
<button>Log in</button>
</form>`,
  );
}

function homePage(s: Session): string {
  const a = s.account;
  return page(
    'Incidents',
    `<h1>bodycam vault</h1>
<p>Logged in as <strong>${escapeHtml(a.name)}</strong>, ${escapeHtml(a.role)} of ${escapeHtml(a.organisation)}.</p>
<form method="post" action="/logout"><input type="hidden" name="csrf" value="${escapeHtml(s.csrf)}"><button>Log out</button></form>`,
  );
}

function cookies(req: IncomingMessage): Map<string, string> {
  const out = new Map<string, string>();
  for (const part of (req.headers.cookie ?? '').split(';')) {
    const eq = part.indexOf('=');
    if (eq > 0) out.set(part.slice(0, eq).trim(), part.slice(eq + 1).trim());
  }
  return out;
}

class TooLarge extends Error {}

async function readForm(req: IncomingMessage): Promise<URLSearchParams> {
  const type = (req.headers['content-type'] ?? '').split(';')[0]?.trim();
  if (type !== 'application/x-www-form-urlencoded') return new URLSearchParams();
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > MAX_FORM_BYTES) throw new TooLarge();
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const c of req) {
    size += (c as Buffer).length;
    if (size > MAX_FORM_BYTES) throw new TooLarge();
    chunks.push(c as Buffer);
  }
  return new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
}

export class VaultServer {
  readonly #o: ServeOptions;
  readonly #sessions = new Sessions();
  readonly #limits: LoginLimits;
  readonly #now: () => number;
  #server: Server | null = null;
  readonly #incidents: IncidentRoutes | null;

  constructor(o: ServeOptions) {
    this.#o = o;
    this.#now = o.now ?? Date.now;
    this.#limits = o.limits ?? new LoginLimits();
    this.#incidents =
      o.incidents === undefined
        ? null
        : new IncidentRoutes(
            { now: this.#now, ...o.incidents },
            {
              send: (res, status, body, headers) => this.#send(res, status, body, headers),
              sendStream: (res, body, type, length) => this.#sendStream(res, body, type, length),
              refuse: (req, res, status, why, headers) => this.#refuse(req, res, status, why, headers),
              form: async (req, res, s) => {
                const form = await this.#form(req, res);
                if (form === null) return null;
                if (form.get('csrf') !== s.csrf) {
                  this.#refuse(req, res, 403, 'the form is not from this session');
                  return null;
                }
                return form;
              },
            },
          );
  }

  /** Starts listening; resolves with the service's URL. */
  async start(): Promise<string> {
    const handler = (req: IncomingMessage, res: ServerResponse) => {
      this.#handle(req, res).catch((e: unknown) => {
        this.#o.log.error({ err: e, url: req.url }, 'a request failed');
        if (!res.headersSent) this.#send(res, 500, page('Error', '<p>Something went wrong; it is logged.</p>'));
        else res.destroy();
      });
    };
    const server = this.#o.tls === undefined ? createHttpServer(handler) : createHttpsServer(this.#o.tls, handler);
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(
          new BodycamError(
            ErrorCode.CONFIG_INVALID,
            `cannot listen on ${this.#o.host}:${this.#o.port} (${e.code ?? e.message}): another program there, or not this machine's address? (vault.json listen)`,
            {},
            { cause: e },
          ),
        ),
      );
      server.listen(this.#o.port, this.#o.host, () => resolve());
    });
    this.#server = server;
    const { port } = server.address() as AddressInfo;
    const host = this.#o.host.includes(':') ? `[${this.#o.host}]` : this.#o.host;
    return `${this.#o.tls === undefined ? 'http' : 'https'}://${host}:${port}`;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (server === null) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  /** Disabling an account ends its sessions at once. */
  endSessionsOf(name: string): void {
    this.#sessions.endAll(name);
  }

  #send(res: ServerResponse, status: number, body: string, headers: Record<string, string> = {}): void {
    const secure = this.#o.tls === undefined ? {} : { 'Strict-Transport-Security': 'max-age=31536000' };
    const type = body.startsWith('{') ? 'application/json' : 'text/html; charset=utf-8';
    res.writeHead(status, { ...SECURITY_HEADERS, ...secure, 'Content-Type': type, ...headers });
    res.end(body);
  }

  #sendStream(res: ServerResponse, body: Readable, type: string, length: number): void {
    const secure = this.#o.tls === undefined ? {} : { 'Strict-Transport-Security': 'max-age=31536000' };
    res.writeHead(200, { ...SECURITY_HEADERS, ...secure, 'Content-Type': type, 'Content-Length': String(length) });
    body.on('error', (e) => {
      this.#o.log.error({ err: e }, 'reading from the store failed mid-answer');
      res.destroy();
    });
    body.pipe(res);
  }

  #refuse(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    why: string,
    headers: Record<string, string> = {},
  ) {
    this.#o.log.warn({ status, why, method: req.method, path: req.url, from: req.socket.remoteAddress }, 'refused');
    this.#send(res, status, page('Refused', `<p>${escapeHtml(why)}</p>`), headers);
  }

  #cookie(id: string, maxAgeS: number): string {
    const secure = this.#o.tls === undefined ? '' : '; Secure';
    return `${SESSION_COOKIE}=${id}; Path=/; HttpOnly; SameSite=Strict; Max-Age=${maxAgeS}${secure}`;
  }

  /** A browser's request from another origin (its Origin header names another site): never acted on. */
  #foreign(req: IncomingMessage): boolean {
    const origin = req.headers.origin;
    if (origin === undefined) return false;
    const host = req.headers.host ?? '';
    const scheme = this.#o.tls === undefined ? 'http' : 'https';
    return origin !== `${scheme}://${host}`;
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const now = this.#now();
    const url = new URL(req.url ?? '/', 'http://vault.invalid');
    const route = `${req.method} ${url.pathname}`;
    const id = cookies(req).get(SESSION_COOKIE);
    const session = this.#sessions.get(id, now);
    if (req.method === 'POST' && this.#foreign(req)) return this.#refuse(req, res, 403, 'a request from another site');
    if (url.pathname.startsWith('/incidents/') && session === null) return this.#refuse(req, res, 401, 'not logged in');
    if (session !== null && this.#incidents !== null && (await this.#incidents.handle(req, res, session, url))) return;
    if (url.pathname.startsWith('/assets/') && req.method === 'GET') {
      // The player's script and style: code, not data, but still only for a session (nothing is read without one).
      if (session === null) return this.#refuse(req, res, 401, 'not logged in');
      const asset = consoleAsset(url.pathname);
      if (asset === null) return this.#refuse(req, res, 404, 'no such file');
      const secure = this.#o.tls === undefined ? {} : { 'Strict-Transport-Security': 'max-age=31536000' };
      res.writeHead(200, { ...SECURITY_HEADERS, ...secure, 'Content-Type': asset.contentType });
      res.end(asset.body);
      return;
    }
    switch (route) {
      case 'GET /login':
        return this.#send(res, 200, loginPage(''));
      case 'POST /login':
        return this.#login(req, res, now);
      case 'POST /logout': {
        if (session === null) return this.#refuse(req, res, 401, 'not logged in');
        const form = await this.#form(req, res);
        if (form === null) return;
        if (form.get('csrf') !== session.csrf) return this.#refuse(req, res, 403, 'the form is not from this session');
        this.#sessions.end(id);
        this.#o.log.info({ account: session.account.name }, 'logged out');
        return this.#send(res, 303, '', { Location: '/login', 'Set-Cookie': this.#cookie('', 0) });
      }
      case 'GET /':
        if (session === null) return this.#send(res, 303, '', { Location: '/login' });
        return this.#send(res, 200, homePage(session));
      case 'GET /api/session':
        if (session === null) return this.#refuse(req, res, 401, 'not logged in');
        return this.#send(res, 200, JSON.stringify({ account: session.account, csrf: session.csrf }));
      default:
        if (
          ['GET /login', 'POST /login', 'POST /logout', 'GET /', 'GET /api/session'].some((r) =>
            r.endsWith(` ${url.pathname}`),
          )
        ) {
          return this.#refuse(req, res, 405, `${req.method} is not allowed here`);
        }
        return this.#refuse(req, res, 404, 'no such page');
    }
  }

  async #form(req: IncomingMessage, res: ServerResponse): Promise<URLSearchParams | null> {
    try {
      return await readForm(req);
    } catch (e) {
      if (!(e instanceof TooLarge)) throw e;
      this.#refuse(req, res, 413, `a form of at most ${MAX_FORM_BYTES} bytes`, { Connection: 'close' });
      return null;
    }
  }

  async #login(req: IncomingMessage, res: ServerResponse, now: number): Promise<void> {
    const form = await this.#form(req, res);
    if (form === null) return;
    const name = (form.get('name') ?? '').trim().toLowerCase();
    const password = form.get('password') ?? '';
    const address = req.socket.remoteAddress ?? '';
    const wait = this.#limits.waitMs(name, address, now);
    if (wait > 0) {
      const retry = String(Math.ceil(wait / 1000));
      return this.#refuse(req, res, 429, `too many failed logins: try again in ${retry} s`, { 'Retry-After': retry });
    }
    const account = await this.#o.accounts.authenticate(name, password);
    if (account === null) {
      this.#limits.failed(name, address, now);
      this.#o.log.warn({ name, from: address }, 'login failed');
      return this.#send(res, 401, loginPage('The name or the password is wrong, or the account is disabled.'));
    }
    this.#limits.succeeded(name);
    const { id } = this.#sessions.start(account, now);
    this.#o.log.info({ account: account.name, from: address }, 'logged in');
    return this.#send(res, 303, '', { Location: '/', 'Set-Cookie': this.#cookie(id, 8 * 3600) });
  }
}
