/**
 * What every page bodycam serves shares (the custody service's console, the dock's own page): escaping of text into
 * HTML, and the security headers. Nothing a page shows is trusted to be plain text: a name or a fault a camera sent,
 * a reason an investigator typed, all go through `escapeHtml`.
 */

export const escapeHtml = (s: string): string =>
  s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c] ?? c);

/**
 * The headers on every answer: a CSP with no inline script or style (`extra` adds directives such as `form-action`),
 * no framing, no sniffing, no caching, no cross-origin use. `same-origin` referrers: under `no-referrer` a browser
 * sends `Origin: null` with the page's own forms, which an Origin check would refuse.
 */
export function securityHeaders(extra: readonly string[] = []): Record<string, string> {
  return {
    'Content-Security-Policy': [
      "default-src 'none'",
      "img-src 'self'",
      "style-src 'self'",
      ...extra,
      "frame-ancestors 'none'",
      "base-uri 'none'",
    ].join('; '),
    'X-Content-Type-Options': 'nosniff',
    'X-Frame-Options': 'DENY',
    'Referrer-Policy': 'same-origin',
    'Cache-Control': 'no-store',
    'Cross-Origin-Opener-Policy': 'same-origin',
    'Cross-Origin-Resource-Policy': 'same-origin',
  };
}
