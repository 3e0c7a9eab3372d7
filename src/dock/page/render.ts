/**
 * The dock's own page as HTML: one screen an operator at the station reads at a glance. Docked cameras first, each
 * with "Safe to undock" or why not, and what it is handing over; then what needs attention (faults a camera reported,
 * footage refused, rollbacks, writes the store refused); then the incidents held and how far each is at the store,
 * cameras away, enrolled cameras never seen, withdrawn ones, and pending updates. It refreshes itself (a meta refresh:
 * no script) and has no form, button or link to footage: it is read-only. Every string goes through `escapeHtml`:
 * a camera's release, faults and the operator's own withdrawal reasons alike.
 */
import { escapeHtml as h } from '../../lib/html.ts';
import type { DockPageModel, PageCamera, PageTransfer } from './model.ts';

/** How often the page reloads itself, in seconds. */
export const REFRESH_SECONDS = 5;
/** Rows of incidents held shown on the page (all of them are in /status.json). */
export const INCIDENTS_SHOWN = 200;

const mb = (bytes: number): string => `${(bytes / 1e6).toFixed(1)} MB`;
/** An ISO time as an operator reads it: date and time to the second, UTC said. */
const when = (iso: string | null): string => (iso === null ? '—' : `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`);

function transferLine(t: PageTransfer): string {
  const pct = t.bytes === 0 ? 100 : Math.floor((100 * t.received) / t.bytes);
  return `<div class="transfer"><progress max="${t.bytes}" value="${t.received}">${pct}%</progress> ${h(t.incident)}/${h(t.file)}: <span class="pct">${pct}%</span> of ${mb(t.bytes)}</div>`;
}

function undockCell(c: PageCamera): string {
  if (c.undock.safe) return '<td class="undock safe"><strong>Safe to undock</strong></td>';
  return `<td class="undock wait"><strong>Not yet</strong><br>${h(c.undock.text.replace(/^not yet: /, ''))}</td>`;
}

function dockedTable(cameras: readonly PageCamera[]): string {
  if (cameras.length === 0) return '<p class="none">No camera is docked.</p>';
  const rows = cameras.map((c) => {
    const moving = c.transfers.length === 0 ? 'nothing in transfer' : c.transfers.map(transferLine).join('');
    const battery = c.hello?.battery === undefined ? '—' : `${c.hello.battery.percent}%`;
    const faults = (c.hello?.faults ?? []).length;
    return `<tr id="cam-${h(c.device)}"><th scope="row">${h(c.device)}</th>${undockCell(c)}<td>${moving}<br><span class="held">${c.stored} segment(s) at the dock, ${c.incidents} incident(s) complete</span></td><td>${h(c.hello?.release ?? '—')}</td><td>${battery}</td><td>${faults === 0 ? 'none' : `<strong class="bad">${faults}</strong> (below)`}</td></tr>`;
  });
  return `<table><thead><tr><th>Camera</th><th>Undock</th><th>Handing over</th><th>Release</th><th>Battery</th><th>Faults</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>`;
}

/** What needs an operator: one line each, naming the camera. */
function attention(m: DockPageModel): string[] {
  const lines: string[] = [];
  for (const c of m.cameras) {
    for (const f of c.hello?.faults ?? []) lines.push(`<li><strong>${h(c.device)}</strong>: ${h(f)}</li>`);
    if (c.refused > 0)
      lines.push(
        `<li><strong>${h(c.device)}</strong>: ${c.refused} segment(s) refused by the dock and kept on the camera (<code>bodycam dock status</code> says why)</li>`,
      );
    if (c.docking?.rollback != null)
      lines.push(`<li><strong>${h(c.device)}</strong>: rolled back: ${h(c.docking.rollback)}</li>`);
    if (!c.enrolled && c.withdrawn === null)
      lines.push(`<li><strong>${h(c.device)}</strong>: in the dock's records but no longer enrolled</li>`);
  }
  if (m.store.refused > 0)
    lines.push(
      `<li>The object store refused ${m.store.refused} write(s); they are kept at the dock for an operator (the log says why)</li>`,
    );
  else if (m.store.waiting > 0)
    lines.push(
      `<li>${m.store.waiting} write(s) wait at the dock for the object store${m.store.lastError === null ? '' : `; its last answer: ${h(m.store.lastError)}`}</li>`,
    );
  return lines;
}

function incidentsTable(m: DockPageModel): string {
  const rows = m.cameras.flatMap((c) => c.incidentsHeld.map((i) => ({ device: c.device, ...i })));
  if (rows.length === 0) return '<p class="none">No footage is held at this dock yet.</p>';
  const atStore = (i: (typeof rows)[number]): string => {
    if (i.refusedByStore > 0) return `<strong class="bad">${i.refusedByStore} write(s) refused by the store</strong>`;
    if (i.waitingForStore > 0) return `${i.waitingForStore} write(s) waiting for the store`;
    return m.store.kind === 's3' ? 'in the store' : 'in the dock directory';
  };
  const shown = rows
    .slice(0, INCIDENTS_SHOWN)
    .map(
      (i) =>
        `<tr><td>${h(i.device)}</td><td>${h(i.incident)}</td><td>${i.segments}</td><td>${mb(i.bytes)}</td><td>${i.closed ? 'complete' : 'segments only (closing manifest not in yet)'}</td><td>${atStore(i)}</td></tr>`,
    );
  const more =
    rows.length > INCIDENTS_SHOWN
      ? `<p>… ${rows.length - INCIDENTS_SHOWN} more in <a href="/status.json">status.json</a></p>`
      : '';
  return `<table><thead><tr><th>Camera</th><th>Incident</th><th>Segments</th><th>Size</th><th>At the dock</th><th>At the store</th></tr></thead>
<tbody>
${shown.join('\n')}
</tbody></table>${more}`;
}

function updatesPart(m: DockPageModel): string {
  if (m.updates === null) return '<p class="none">No updates configured at this dock.</p>';
  if (m.updates.length === 0) return '<p class="none">No update is pending.</p>';
  const rows = m.updates.map(
    (u) =>
      `<tr><td>${h(u.device)}</td><td>${h(u.release)}</td><td>${h(u.state)}</td><td>${h(u.reason ?? '')}</td></tr>`,
  );
  return `<table><thead><tr><th>Camera</th><th>Release</th><th>State</th><th>Why</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>`;
}

function list(items: readonly string[], none: string): string {
  return items.length === 0 ? `<p class="none">${none}</p>` : `<ul>\n${items.join('\n')}\n</ul>`;
}

export function renderDockPage(m: DockPageModel): string {
  const docked = m.cameras.filter((c) => c.docked);
  const away = m.cameras.filter((c) => !c.docked && c.enrolled && c.lastSeen !== null);
  const never = m.cameras.filter((c) => c.enrolled && c.lastSeen === null);
  const withdrawn = m.cameras.filter((c) => c.withdrawn !== null);
  const safe = docked.filter((c) => c.undock.safe).length;
  const alerts = attention(m);
  const store = m.store.kind === 's3' ? 'an object store' : 'the dock directory';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="refresh" content="${REFRESH_SECONDS}">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Dock ${h(m.dock)}: ${docked.length} docked, ${safe} safe to undock</title>
<link rel="stylesheet" href="/dock.css">
</head>
<body>
<header><h1>Dock ${h(m.dock)}</h1>
<p id="summary"><strong>${docked.length}</strong> docked · <strong>${safe}</strong> safe to undock · <strong>${alerts.length}</strong> need attention</p>
<p class="asof">As of ${when(m.at)}; this page refreshes every ${REFRESH_SECONDS} s. Footage goes to ${store}.</p></header>
<main>
<section id="docked"><h2>Docked now</h2>
${dockedTable(docked)}
</section>
<section id="attention"><h2>Needs attention</h2>
${list(alerts, 'Nothing.')}
</section>
<section id="incidents"><h2>Incidents held at this dock</h2>
${incidentsTable(m)}
</section>
<section id="away"><h2>Not docked</h2>
${list(
  away.map((c) => `<li><strong>${h(c.device)}</strong>: last seen ${when(c.lastSeen)}; ${h(c.undock.text)}</li>`),
  'Every camera seen here is docked.',
)}
</section>
<section id="never"><h2>Enrolled, never seen</h2>
${list(
  never.map((c) => `<li>${h(c.device)}</li>`),
  'None.',
)}
</section>
<section id="withdrawn"><h2>Withdrawn</h2>
${list(
  withdrawn.map(
    (c) =>
      `<li><strong>${h(c.device)}</strong>: withdrawn ${when(c.withdrawn?.at ?? null)}: ${h(c.withdrawn?.reason ?? '')}</li>`,
  ),
  'None.',
)}
</section>
<section id="updates"><h2>Pending updates</h2>
${updatesPart(m)}
</section>
</main>
<footer><p>Read-only. The same as data: <a href="/status.json">status.json</a>.</p></footer>
</body></html>
`;
}

/** The page's only style sheet (served at /dock.css: the CSP allows no inline style). */
export const DOCK_CSS = `body { font: 18px/1.4 system-ui, sans-serif; margin: 1em 2em; color: #111; background: #fff; }
h1 { margin: 0 0 .2em; }
h2 { margin: 1.2em 0 .4em; border-bottom: 2px solid #ccc; }
#summary { font-size: 1.3em; margin: 0; }
.asof, .none, .held { color: #555; }
table { border-collapse: collapse; width: 100%; }
th, td { text-align: left; vertical-align: top; padding: .35em .6em; border-bottom: 1px solid #ddd; }
thead th { background: #f2f2f2; }
td.undock { font-size: 1.2em; white-space: nowrap; }
td.undock.safe { background: #d9f2d9; color: #0a5c0a; }
td.undock.wait { background: #fff1cc; color: #6b4a00; }
progress { width: 12em; height: 1.1em; vertical-align: middle; }
.bad { color: #a00000; }
#attention li { margin: .2em 0; }
`;
