import { chmod, rm } from 'node:fs/promises';
import net from 'node:net';
import { isBodycamError } from '../../lib/errors.ts';
import type { Logger } from '../../lib/logger.ts';
import { type ControlRequest, type ControlResponse, parseRequest } from './protocol.ts';

export type ControlHandler = (req: ControlRequest) => Promise<unknown>;

/** Unix-socket control server (mode 0600: only the service user drives the camera). */
export class ControlServer {
  readonly #path: string;
  readonly #handler: ControlHandler;
  readonly #log: Logger;
  #server: net.Server | null = null;
  readonly #sockets = new Set<net.Socket>();

  constructor(options: { path: string; handler: ControlHandler; logger: Logger }) {
    this.#path = options.path;
    this.#handler = options.handler;
    this.#log = options.logger;
  }

  async start(): Promise<void> {
    await rm(this.#path, { force: true });
    const server = net.createServer((socket) => this.#serve(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(this.#path, () => {
        server.off('error', reject);
        resolve();
      });
    });
    await chmod(this.#path, 0o600);
    this.#server = server;
  }

  async stop(): Promise<void> {
    const server = this.#server;
    this.#server = null;
    for (const s of this.#sockets) s.destroy();
    if (server !== null) await new Promise<void>((resolve) => server.close(() => resolve()));
    await rm(this.#path, { force: true });
  }

  #serve(socket: net.Socket): void {
    this.#sockets.add(socket);
    socket.setEncoding('utf8');
    let buffer = '';
    socket.on('data', (chunk: string) => {
      buffer += chunk;
      if (buffer.length > 8192) {
        socket.end(`${JSON.stringify({ ok: false, code: 'CONTROL_REJECTED', error: 'request too long' })}\n`);
        return;
      }
      let nl = buffer.indexOf('\n');
      while (nl >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        void this.#answer(socket, line);
        nl = buffer.indexOf('\n');
      }
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.#sockets.delete(socket));
  }

  async #answer(socket: net.Socket, line: string): Promise<void> {
    const req = parseRequest(line);
    let res: ControlResponse;
    if ('error' in req) {
      res = { ok: false, code: 'CONTROL_REJECTED', error: req.error };
    } else {
      try {
        res = { ok: true, result: await this.#handler(req) };
      } catch (e) {
        const code = isBodycamError(e) ? e.code : 'INTERNAL';
        if (!isBodycamError(e)) this.#log.error({ err: e }, 'control request failed');
        res = { ok: false, code, error: (e as Error).message };
      }
    }
    if (!socket.destroyed) socket.write(`${JSON.stringify(res)}\n`);
  }
}
