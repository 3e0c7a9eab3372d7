/**
 * The console's incident pages as HTML (pure: rows and records in, text out): the list with its search form, and one
 * incident's page with its facts, its access history from the custody log, and the forms its reader may use (ask
 * for access; record a prosecutor's decision; share; play once granted). Everything shown is escaped.
 */

import type { Grant, IncidentRef } from '../access/records.ts';
import type { Account } from '../accounts/accounts.ts';
import type { SignedCustodyRecord } from '../custody-record.ts';
import type { IncidentRow } from '../index/schema.ts';
import type { Policy } from '../policy/decide.ts';
import { escapeHtml as h, page } from './html.ts';

export const incidentPath = (r: IncidentRef): string =>
  `/incidents/${encodeURIComponent(r.organisation)}/${encodeURIComponent(r.device)}/${encodeURIComponent(r.incident)}`;

const csrfField = (csrf: string): string => `<input type="hidden" name="csrf" value="${h(csrf)}">`;

function header(a: Account, csrf: string): string {
  return `<header><p>${h(a.name)}, ${h(a.role)} of ${h(a.organisation)} · <a href="/">Incidents</a></p>
<form method="post" action="/logout">${csrfField(csrf)}<button>Log out</button></form></header>`;
}

export interface ListFilter {
  device: string;
  from: string;
  to: string;
}

export function listPage(a: Account, csrf: string, rows: readonly IncidentRow[], f: ListFilter, error = ''): string {
  const alert = error === '' ? '' : `<p role="alert">${h(error)}</p>\n`;
  const body = rows
    .map(
      (r) => `<tr><td>${h(r.activatedAt ?? 'not closed')}</td><td>${h(r.organisation)}</td><td>${h(r.device)}</td>
<td><a href="${h(incidentPath(r))}">${h(r.incident)}</a></td><td>${r.segments}</td><td>${h(r.warning ?? '-')}</td>
<td>${h(r.verification)}</td><td>${r.held ? 'held' : ''}</td><td>${h(r.deleteDue ?? '-')}</td></tr>`,
    )
    .join('\n');
  return page(
    'Incidents',
    `${header(a, csrf)}
<h1>Incidents</h1>
${alert}<form method="get" action="/" role="search">
<label>Device <input name="device" value="${h(f.device)}"></label>
<label>From <input name="from" type="date" value="${h(f.from)}"></label>
<label>To <input name="to" type="date" value="${h(f.to)}"></label>
<button>Search</button></form>
<table><thead><tr><th>Activated</th><th>Organisation</th><th>Device</th><th>Incident</th><th>Segments</th>
<th>Warning</th><th>Verification</th><th>Hold</th><th>Delete due</th></tr></thead>
<tbody>
${body}
</tbody></table>
<p>${rows.length} incident(s): your organisation's, and those shared with it.</p>`,
  );
}

function facts(r: IncidentRow): string {
  const row = (k: string, v: string) => `<dt>${h(k)}</dt><dd>${h(v)}</dd>`;
  const ms = (v: number | null) => (v === null ? '-' : `${(v / 1000).toFixed(1)} s`);
  return `<dl>
${row('Organisation', r.organisation)}${row('Device', r.device)}${row('Activated', r.activatedAt ?? 'not closed')}
${row('Stopped', r.stoppedAt ?? '-')}${row('Pre-roll', ms(r.prerollMs))}${row('Warning to the person filmed', r.warning ?? '-')}
${row('Clock', r.clockSource === null ? '-' : `${r.clockSource}, offset ${r.clockOffsetMs ?? '?'} ms`)}
${row('Segments', `${r.segments} (${r.bytes} bytes, encrypted)`)}${row('Verification', r.verification)}
${row('Kept at least until', r.minimumUntil ?? '-')}${row('Deleted after', r.deleteDue ?? '-')}
${row('Legal hold', r.held ? 'yes' : 'no')}
</dl>`;
}

function history(records: readonly SignedCustodyRecord[]): string {
  const rows = records.map(({ record: r }) => {
    const detail = Object.entries(r.detail ?? {})
      .filter(([k]) => k !== 'device')
      .map(([k, v]) => `${k}: ${v}`)
      .join('; ');
    return `<tr><td>${r.seq}</td><td>${h(r.at)}</td><td>${h(r.action)}</td><td>${h(r.operator)}</td><td>${h(r.reason)}</td><td>${h(detail)}</td></tr>`;
  });
  return `<h2>Access history</h2>
<table id="history"><thead><tr><th>#</th><th>When</th><th>What</th><th>Who</th><th>Reason</th><th>Detail</th></tr></thead>
<tbody>
${rows.join('\n')}
</tbody></table>`;
}

export interface IncidentView {
  account: Account;
  csrf: string;
  ref: IncidentRef;
  row: IncidentRow;
  history: readonly SignedCustodyRecord[];
  grant: Grant | null;
  policy: Policy;
  /** The answer to the last form, shown on top. */
  message: string;
}

export function incidentPage(v: IncidentView): string {
  const path = incidentPath(v.ref);
  const a = v.account;
  const own = a.organisation === v.ref.organisation;
  const forms: string[] = [];
  if (v.grant !== null) {
    forms.push(`<p>You may open this footage until ${h(new Date(v.grant.untilMs).toISOString())} (${h(v.grant.basis)}).
<a id="play" href="${h(path)}/play">Play</a></p>`);
  } else if (v.policy.footageRoles.includes(a.role)) {
    forms.push(`<h2>Ask for access</h2>
<form method="post" action="${h(path)}/access">${csrfField(v.csrf)}
<label>Reason <input name="reason" required minlength="${v.policy.minReasonChars}" size="60"></label>
<label>Prosecutor's decision (after ${v.policy.ownAccessDays} days) <input name="authorisation"></label>
<button>Ask</button></form>`);
  }
  if (own && a.role === 'prosecutor') {
    forms.push(`<h2>Record a prosecutor's decision</h2>
<form method="post" action="${h(path)}/authorise">${csrfField(v.csrf)}
<label>Reference <input name="reference" required></label>
<label>Reason <input name="reason" required size="60"></label>
<label>Until <input name="until" type="date"></label>
<button>Record</button></form>`);
  }
  if (own && v.policy.shareRoles.includes(a.role)) {
    forms.push(`<h2>Share with another organisation</h2>
<form method="post" action="${h(path)}/share">${csrfField(v.csrf)}
<label>Organisation <input name="with" required></label>
<label>Reason <input name="reason" required size="60"></label>
<button>Share</button></form>`);
  }
  if (own && v.policy.holdRoles.includes(a.role)) {
    forms.push(`<h2>Legal hold</h2>
<form method="post" action="${h(path)}/hold">${csrfField(v.csrf)}<input type="hidden" name="on" value="${v.row.held ? '0' : '1'}">
<label>Reason <input name="reason" required size="60"></label>
<button>${v.row.held ? 'Release the hold' : 'Set a legal hold'}</button></form>`);
  }
  const note = v.message === '' ? '' : `<p role="status">${h(v.message)}</p>\n`;
  return page(
    `Incident ${v.ref.incident}`,
    `${header(a, v.csrf)}
<h1>Incident ${h(v.ref.incident)}</h1>
${note}${facts(v.row)}
${forms.join('\n')}
${history(v.history)}`,
  );
}
