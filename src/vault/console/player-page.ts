/**
 * The custody service's player page: the custodian opens their age identity file in the browser (it is read there and
 * never sent), the page fetches the ciphertext of the segments the session is entitled to, decrypts them with age in
 * JavaScript and plays them through Media Source Extensions (assets/player.js, built from browser/player.ts). No
 * inline script or style: data reaches the script through data-* attributes, so the page runs under
 * PLAYER_CSP.
 */
import { escapeHtml } from '../serve/html.ts';

/** The Content-Security-Policy the player needs (MSE plays from a blob: URL; nothing else leaves 'self'). */
export const PLAYER_CSP =
  "default-src 'none'; script-src 'self'; connect-src 'self'; media-src 'self' blob:; style-src 'self'; img-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'";

export interface PlayerPageOptions {
  title: string;
  /** Same-origin URL answering `{"incident", "segments": [{"seq", "url", "bytes"}]}` for this session. */
  segmentsUrl: string;
  /** The session's CSRF token, carried for forms the page may hold (a log-out button). */
  csrf?: string;
}

/** The whole HTML document of the player. */
export function playerPage(o: PlayerPageOptions): string {
  const title = escapeHtml(o.title);
  const csrf = o.csrf === undefined ? '' : ` data-csrf="${escapeHtml(o.csrf)}"`;
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${title} · bodycam vault</title>
<link rel="stylesheet" href="/assets/player.css">
<script type="module" src="/assets/player.js"></script></head>
<body><main class="player" data-segments-url="${escapeHtml(o.segmentsUrl)}"${csrf}>
<h1>${title}</h1>
<p>Open your custodian identity file (AGE-SECRET-KEY-1…). It is read in this browser and never sent to the server;
the footage is decrypted here.</p>
<label>Identity file <input type="file" name="identity" accept=".key,.txt,text/plain"></label>
<p role="status" aria-live="polite"></p>
<p role="alert" hidden></p>
<video controls muted playsinline></video>
</main></body></html>
`;
}
