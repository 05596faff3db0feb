import { TRAIL_BREAK_WORDS } from '../../domain/audit-seal.js';
import type {
  DeploymentLog,
  DeploymentLogItem,
  DeploymentLogJson,
  DeploymentLogVerification,
} from '../../domain/deployment-log.js';
import type { Release } from '../../domain/release.js';
import type { PhaseSpan } from '../../domain/stats.js';
import { type Html, html, safeWebUrl, timeOf } from './html.js';
import { renderPage } from './layout.js';

// /releases/{id}: the release's timeline (phases planned and done, who ticked what and when,
// overrides, the go call, check-ins with their values, issues, the rollback), whether its audit trail
// verifies, and links to its Slack thread and its deployment log. Pure: everything comes from the
// deployment log the application layer built from the record.

export interface ReleasePage {
  release: Release;
  /** The deployment log, built as `/deploy log` builds it, with the trail checked as it was read. */
  log: DeploymentLog;
  /** When each phase opened and was done, replayed from the trail. */
  phaseSpans: PhaseSpan[];
  /** The release's header in Slack, when its link is known. */
  permalink: string | undefined;
}

type People = DeploymentLogJson['people'];

function who(people: People, userId: string | undefined): Html {
  if (userId === undefined) return html``;
  const person = people[userId];
  return person ? html`<span title="${userId}">${person.name}</span>` : html`<span>${userId}</span>`;
}

function at(iso: string | undefined): Html | string {
  return iso === undefined ? '' : timeOf(Date.parse(iso));
}

const STATUS_WORDS: Record<string, Html> = {
  active: html`<span class="badge">active</span>`,
  completed: html`<span class="badge ok">completed</span>`,
  cancelled: html`<span class="badge">cancelled</span>`,
  rolling_back: html`<span class="badge bad">rolling back</span>`,
  rolled_back: html`<span class="badge bad">rolled back</span>`,
};

// Words and badges rather than emoji: a page may be shown where no emoji font is installed.
const PHASE_STATE_WORDS: Record<string, Html> = {
  done: html`<span class="badge ok">done</span>`,
  open: html`<span class="badge warn">open</span>`,
  locked: html`<span class="badge">locked</span>`,
  skipped: html`<span class="badge bad">skipped by an override</span>`,
};

function itemLine(item: DeploymentLogItem, people: People): Html {
  const state = item.done ? 'done' : item.skipped ? 'skipped' : 'open';
  return html`<li data-item="${item.id}" class="item ${state}"><span class="visually-hidden">${state}:</span> ${item.text}${item.required ? '' : html` <span class="meta">(optional)</span>`}
${item.record?.value !== undefined ? html` — ${item.record.label}: <code>${String(item.record.value)}</code>` : ''}
${item.by ? html` <span class="meta">${item.done ? 'ticked' : 'unticked'} by ${who(people, item.by)} ${at(item.at)}</span>` : ''}</li>`;
}

function verificationSection(verification: DeploymentLogVerification | undefined): Html {
  if (!verification) return html`<p>The audit trail was not checked.</p>`;
  const seals = verification.sealsChecked
    ? `keyed seals checked through event ${verification.sealedThrough}${verification.notSealedYet > 0 ? ` (${verification.notSealedYet} newer not sealed yet)` : ''}`
    : 'keyed seals not checked (no AUDIT_KEY configured)';
  if (verification.intact)
    return html`<p id="verification" class="verdict-ok">The audit trail verifies: ${verification.events} events, hash chain intact, ${seals}. The anchor on the Slack header is checked by <code>/deploy audit … verify</code>.</p>`;
  return html`<div id="verification"><p class="verdict-bad">The audit trail does not verify (${verification.events} events, ${seals}).</p>
<ul>${verification.problems.map((problem) => html`<li>Event ${problem.position}: ${TRAIL_BREAK_WORDS[problem.problem]}</li>`)}</ul></div>`;
}

export function renderReleasePage(page: ReleasePage, signedIn: boolean): string {
  const { release, log, phaseSpans, permalink } = page;
  const json = log.json;
  const people = json.people;
  const title = `${release.version} → ${release.env}${release.attempt !== undefined && release.attempt > 1 ? ` #${release.attempt}` : ''}`;
  const base = `/releases/${encodeURIComponent(release.id)}`;
  const slack = safeWebUrl(permalink);
  const spanOf = (index: number) => phaseSpans.find((span) => span.phaseIndex === index);
  const facts = html`<dl class="facts">
<dt>Status</dt><dd>${STATUS_WORDS[release.status]}</dd>
<dt>Template</dt><dd>${json.release.template.name}</dd>
<dt>Started</dt><dd>${at(json.release.startedAt)} by ${who(people, json.release.startedBy)}</dd>
${json.release.window ? html`<dt>Deploy window</dt><dd>${at(json.release.window.at)} (${json.release.window.zone})</dd>` : ''}
${json.release.deployedAt ? html`<dt>Deployed</dt><dd>${at(json.release.deployedAt)} by ${who(people, json.release.deployedBy)}</dd>` : ''}
${json.release.finishedAt ? html`<dt>Ended</dt><dd>${at(json.release.finishedAt)} by ${who(people, json.release.finishedBy)}</dd>` : ''}
${json.release.reason ? html`<dt>Reason</dt><dd id="reason">${json.release.reason}</dd>` : ''}
${json.notes ? html`<dt>Release notes</dt><dd id="notes">${json.notes}</dd>` : ''}
${json.downtime ? html`<dt>Expected downtime</dt><dd>${json.downtime}</dd>` : ''}
${json.freezeOverride ? html`<dt>Started in a freeze</dt><dd>${json.freezeOverride.reason} <span class="meta">(${json.freezeOverride.window})</span></dd>` : ''}
</dl>`;
  const links = html`<p class="links">
${slack ? html`<a href="${slack}">Open the Slack thread</a> · ` : ''}
<a href="${base}/log.md" download>Deployment log (Markdown)</a> ·
<a href="${base}/log.json" download>Deployment log (JSON)</a></p>`;
  const phases = html`<table id="phases">
<caption class="visually-hidden">Phases, planned and actual</caption>
<thead><tr><th scope="col">Phase</th><th scope="col">State</th><th scope="col">Planned</th><th scope="col">Opened</th><th scope="col">Done</th><th scope="col">Items</th></tr></thead>
<tbody>${json.phases.map((phase) => {
    const span = spanOf(phase.index);
    return html`<tr data-phase="${phase.id}">
<th scope="row">${phase.index + 1}. ${phase.name}${phase.deployment ? html` <span class="badge">deploy</span>` : ''}${phase.go ? html` <span class="badge">go call</span>` : ''}</th>
<td>${PHASE_STATE_WORDS[phase.state] ?? phase.state}</td>
<td>${phase.dueAt ? at(phase.dueAt) : html`<span class="meta">${phase.due ?? '—'}</span>`}</td>
<td>${span ? timeOf(span.openedAt) : '—'}</td>
<td>${span ? timeOf(span.doneAt) : '—'}</td>
<td><ul>${phase.items.map((item) => itemLine(item, people))}</ul></td>
</tr>`;
  })}</tbody></table>`;
  const go = json.go
    ? html`<p id="go">${json.go.decision === 'go' ? html`<span class="badge ok">go</span>` : html`<span class="badge bad">no-go</span>`} by ${who(people, json.go.by)} ${at(json.go.at)}${json.go.reason ? html`: ${json.go.reason}` : ''}</p>`
    : html`<p class="meta">No go/no-go call on record.</p>`;
  const overrides =
    json.overrides.length > 0
      ? html`<ul id="overrides">${json.overrides.map((override) => html`<li>Phase “${override.phase}” unlocked by ${who(people, override.by)} ${at(override.at)}: ${override.reason}</li>`)}</ul>`
      : html`<p class="meta">No gate was overridden.</p>`;
  const flags =
    json.redFlags.length > 0
      ? html`<ul id="red-flags">${json.redFlags.map((flag) => html`<li><span class="flag">Red flag #${flag.number}</span> ${flag.condition ?? ''} — ${flag.note} <span class="meta">(${who(people, flag.raisedBy)}, ${at(flag.raisedAt)})</span>${flag.clearedAt ? html`; cleared by ${who(people, flag.clearedBy)} ${at(flag.clearedAt)}${flag.clearNote ? html`: ${flag.clearNote}` : ''}` : ''}</li>`)}</ul>`
      : html`<p class="meta">No red flag was raised.</p>`;
  const criterionName = (id: string) => json.criteria.find((criterion) => criterion.id === id)?.name ?? id;
  const checkins =
    json.checkins.length > 0
      ? html`<table id="checkins"><caption class="visually-hidden">Check-ins after the deploy</caption>
<thead><tr><th scope="col">Check-in</th><th scope="col">Due</th><th scope="col">Answer</th><th scope="col">Values</th></tr></thead>
<tbody>${json.checkins.map(
          (
            checkin,
          ) => html`<tr><th scope="row">${checkin.index + 1}${checkin.followUp ? ' (follow-up)' : ''}</th>
<td>${at(checkin.dueAt)}</td>
<td>${checkin.answer ? html`${checkin.answer.kind} by ${who(people, checkin.answer.by)} ${at(checkin.answer.at)}` : html`<span class="meta">${checkin.postedAt ? 'asked, not answered' : release.status === 'active' ? 'not asked yet' : 'not asked: the release ended'}</span>`}</td>
<td>${checkin.observed ? html`<ul>${Object.entries(checkin.observed).map(([id, observed]) => html`<li>${criterionName(id)}: ${observed.value}</li>`)}</ul>` : ''}</td></tr>`,
        )}</tbody></table>`
      : html`<p class="meta">No check-in is planned yet.</p>`;
  const issues =
    json.issues.length > 0
      ? html`<ul id="issues">${json.issues.map((issue) => html`<li>#${issue.id} <span class="badge ${issue.severity === 'critical' ? 'bad' : 'warn'}">${issue.severity}</span> <span class="issue-what">${issue.what}</span> <span class="meta">(${who(people, issue.foundBy)}, ${at(issue.foundAt)})</span>${issue.resolvedAt ? html` — resolved by ${who(people, issue.resolvedBy)} ${at(issue.resolvedAt)}${issue.resolution ? html`: ${issue.resolution}` : ''}` : html` — <strong>open</strong>`}</li>`)}</ul>`
      : html`<p class="meta">No issue was reported.</p>`;
  const rollback = json.rollback
    ? html`<div id="rollback"><p>Rollback decided by ${who(people, json.rollback.decidedBy)} ${at(json.rollback.decidedAt)}: <span id="rollback-reason">${json.rollback.reason}</span></p>
<ul>${json.rollback.items.map((item) => itemLine(item, people))}</ul></div>`
    : html`<p class="meta">Not rolled back.</p>`;
  const trail = html`<ol class="timeline" id="trail">${json.events.map(
    (event) =>
      html`<li>${at(event.at)} · <strong>${event.type.replace(/_/g, ' ')}</strong> by ${who(people, event.user)}${event.itemId ? html` · <code>${event.itemId}</code>` : ''}${event.reason ? html` · ${event.reason}` : ''}</li>`,
  )}</ol>`;
  return renderPage(
    { title, current: 'release', signedIn },
    html`<h1>${title}</h1>
${facts}
${links}
<h2>Audit verification</h2>
${verificationSection(json.verification)}
<h2>Phases: planned and actual</h2>
${phases}
<h2>Go/no-go</h2>
${go}
<h2>Gate overrides</h2>
${overrides}
<h2>Red flags</h2>
${flags}
<h2>Check-ins</h2>
${checkins}
<h2>Issues</h2>
${issues}
<h2>Rollback</h2>
${rollback}
<h2>Audit trail</h2>
${trail}`,
  );
}
