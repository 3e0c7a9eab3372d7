/** The custody service's HTML: escaping (src/lib/html.ts) and the page frame (no inline script or style: the CSP forbids both). */
import { escapeHtml } from '../../lib/html.ts';

export { escapeHtml };

export function page(title: string, body: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · bodycam vault</title></head>\n<body><main>\n${body}\n</main></body></html>\n`;
}
