/**
 * The dock's own page over HTTP (`page` in dock.json; loopback by default): GET or HEAD of `/` (the page),
 * `/status.json` (the same as data) and `/dock.css`; anything else is a clear 404, any other method 405. Read-only:
 * no footage, no keys, no form, no action. Every answer carries the shared security headers (src/lib/html.ts; no
 * script at all, forms nowhere). A Host that is neither an IP address, `localhost` nor the dock's own name is refused:
 * a web page elsewhere cannot read this one by pointing a name of its own at the station (DNS rebinding).
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { type AddressInfo, isIP } from 'node:net';
import { BodycamError, ErrorCode } from '../../lib/errors.ts';
import { escapeHtml as h, securityHeaders } from '../../lib/html.ts';
import type { Logger } from '../../lib/logger.ts';
import type { DockPageModel } from './model.ts';
import { DOCK_CSS, renderDockPage } from './render.ts';

export const DOCK_PAGE_PATHS = ['/', '/status.json', '/dock.css'] as const;

const HEADERS = securityHeaders(["form-action 'none'"]);

export interface DockPageOptions {
  host: string;
  port: number;
  /** The page's content, made afresh for every request. */
  model: () => Promise<DockPageModel>;
  log: Logger;
  /** Host names (besides IP addresses and `localhost`) the page answers to: the dock's own name. */
  names?: readonly string[];
}

function notice(title: string, text: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${h(title)}</title><link rel="stylesheet" href="/dock.css"></head>\n<body><h1>${h(title)}</h1>\n<p>${text}</p>\n<p><a href="/">The dock's page</a></p>\n</body></html>\n`;
}

/** The host name of a Host header (without port or IPv6 brackets), lower case. */
function hostName(header: string): string {
  const m = /^\[([^\]]+)\](?::\d+)?$/.exec(header) ?? /^([^:]+)(?::\d+)?$/.exec(header);
  return (m?.[1] ?? header).toLowerCase();
}

export class DockPageServer {
  readonly #o: DockPageOptions;
  #server: Server | null = null;

  constructor(o: DockPageOptions) {
    this.#o = o;
  }

  /** Starts listening; resolves with the page's URL. */
  async start(): Promise<string> {
    const server = createServer((req, res) => {
      this.#handle(req, res).catch((e: unknown) => {
        this.#o.log.error({ err: e, url: req.url }, 'the dock page failed');
        if (!res.headersSent)
          this.#send(res, 500, 'text/html', notice('Error', "The dock's status could not be read; it is logged."));
        else res.destroy();
      });
    });
    server.headersTimeout = 10_000;
    server.requestTimeout = 30_000;
    await new Promise<void>((resolve, reject) => {
      server.once('error', (e: NodeJS.ErrnoException) =>
        reject(
          new BodycamError(
            ErrorCode.CONFIG_INVALID,
            `the dock page cannot listen on ${this.#o.host}:${this.#o.port} (${e.code ?? e.message}): another program there, or not this machine's address? (dock.json page.listen, page.port)`,
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
    return `http://${host === '0.0.0.0' ? '127.0.0.1' : host === '[::]' ? '[::1]' : host}:${port}`;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    if (server === null) return;
    server.closeAllConnections();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  }

  async #handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const name = hostName(req.headers.host ?? '');
    const names = new Set(['localhost', ...(this.#o.names ?? []).map((n) => n.toLowerCase())]);
    if (isIP(name) === 0 && !names.has(name)) {
      this.#refuse(
        req,
        res,
        421,
        'Wrong address',
        "Open this page by the station's address (say http://127.0.0.1:…/).",
      );
      return;
    }
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      this.#refuse(req, res, 405, 'Not allowed', 'This page is read-only: it answers GET and HEAD only.', {
        Allow: 'GET, HEAD',
      });
      return;
    }
    const path = (req.url ?? '/').split('?')[0] ?? '/';
    if (path === '/dock.css') {
      this.#send(res, 200, 'text/css', DOCK_CSS, req.method === 'HEAD');
      return;
    }
    if (path === '/' || path === '/status.json') {
      const model = await this.#o.model();
      if (path === '/') this.#send(res, 200, 'text/html', renderDockPage(model), req.method === 'HEAD');
      else this.#send(res, 200, 'application/json', `${JSON.stringify(model, null, 2)}\n`, req.method === 'HEAD');
      return;
    }
    this.#refuse(
      req,
      res,
      404,
      'No such page',
      `There is no page <code>${h(path.slice(0, 200))}</code> at this dock. It serves <a href="/">the dock's page</a> and <a href="/status.json">status.json</a>, nothing else.`,
    );
  }

  #send(res: ServerResponse, status: number, type: string, body: string, head = false, extra = {}): void {
    const charset = type === 'application/json' ? '' : '; charset=utf-8';
    res.writeHead(status, {
      ...HEADERS,
      'Content-Type': `${type}${charset}`,
      'Content-Length': String(Buffer.byteLength(body)),
      ...extra,
    });
    res.end(head ? undefined : body);
  }

  #refuse(
    req: IncomingMessage,
    res: ServerResponse,
    status: number,
    title: string,
    html: string,
    extra: Record<string, string> = {},
  ): void {
    this.#o.log.warn(
      { status, method: req.method, path: req.url?.slice(0, 200), from: req.socket.remoteAddress },
      'dock page: refused',
    );
    this.#send(res, status, 'text/html', notice(title, html), req.method === 'HEAD', extra);
  }
}
