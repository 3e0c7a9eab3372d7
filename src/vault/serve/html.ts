/** The custody service's HTML: escaping and the page frame (no inline script or style: the CSP forbids both). */

export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

export function page(title: string, body: string): string {
  return `<!doctype html>\n<html lang="en"><head><meta charset="utf-8"><title>${escapeHtml(title)} · bodycam vault</title></head>\n<body><main>\n${body}\n</main></body></html>\n`;
}
