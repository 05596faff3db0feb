import type {
  EnvironmentStatus,
  InFlightRelease,
  PeopleNames,
  StatusPage,
} from '../../domain/status-board.js';
import { type Html, html, timeOf } from './html.js';
import { renderPage } from './layout.js';

// /status: one row per environment, then the deploy windows coming up. Pure.

export interface StatusViewOptions {
  /** Whether release pages may be linked (a signed-in visitor); a public wall display gets plain text. */
  signedIn: boolean;
  eventsUrl: string;
  refreshSeconds: number;
}

/** A person as the page names them: their name when Slack gave one, with the id for a screen reader and a search. */
export function personLabel(names: PeopleNames, userId: string): Html {
  const name = names.get(userId);
  return name ? html`<span title="${userId}">${name}</span>` : html`<span>${userId}</span>`;
}

function releaseLabel(
  release: { releaseId: string; version: string; attempt?: number | undefined },
  signedIn: boolean,
): Html {
  const text = `${release.version}${release.attempt !== undefined && release.attempt > 1 ? ` #${release.attempt}` : ''}`;
  return signedIn
    ? html`<a href="/releases/${encodeURIComponent(release.releaseId)}">${text}</a>`
    : html`<strong>${text}</strong>`;
}

const STATUS_BADGE: Record<string, Html> = {
  // An active release that is deployed is being monitored (its check-ins are still to come).
  active: html`<span class="badge warn">monitoring</span>`,
  completed: html`<span class="badge ok">completed</span>`,
  cancelled: html`<span class="badge">cancelled</span>`,
  rolling_back: html`<span class="badge bad">rolling back</span>`,
  rolled_back: html`<span class="badge bad">rolled back</span>`,
};

function inFlightCell(release: InFlightRelease, names: PeopleNames, signedIn: boolean): Html {
  const phase = release.phase
    ? html`phase ${release.phase.index + 1}/${release.phasesTotal}: ${release.phase.name}`
    : release.deployedAt !== undefined
      ? html`deployed ${timeOf(release.deployedAt)}, monitoring`
      : html`every phase done`;
  return html`<li data-release="${release.releaseId}">
${releaseLabel(release, signedIn)} ${release.status === 'active' ? '' : STATUS_BADGE[release.status]}
<div>${phase}</div>
<div><progress max="${release.requiredTotal}" value="${release.requiredDone}" aria-label="required items done">${release.requiredDone}/${release.requiredTotal}</progress>
${release.requiredDone}/${release.requiredTotal} required items done</div>
${release.nextDue ? html`<div>next due: ${release.nextDue.what}, ${timeOf(release.nextDue.at)}</div>` : ''}
${release.waitsForGo ? html`<div><span class="badge warn">waiting for the go call</span></div>` : ''}
${release.openIssues > 0 ? html`<div><span class="badge bad">${release.openIssues} open issue${release.openIssues === 1 ? '' : 's'}</span></div>` : ''}
<div class="meta">started by ${personLabel(names, release.startedBy)} ${timeOf(release.startedAt)}</div>
</li>`;
}

function environmentRow(env: EnvironmentStatus, names: PeopleNames, signedIn: boolean): Html {
  const deployed = env.deployed
    ? html`${releaseLabel(env.deployed, signedIn)} ${STATUS_BADGE[env.deployed.status]}
<div class="meta">${timeOf(env.deployed.at)} by ${personLabel(names, env.deployed.by)}</div>`
    : html`<span class="meta">nothing deployed on record</span>`;
  const inFlight =
    env.inFlight.length > 0
      ? html`<ul>${env.inFlight.map((release) => inFlightCell(release, names, signedIn))}</ul>`
      : html`<span class="meta">none</span>`;
  const lock = env.lock
    ? html`<span class="badge warn">locked</span> by ${env.lock.version} since ${timeOf(env.lock.since)} (${personLabel(names, env.lock.by)})`
    : html`<span class="meta">free</span>`;
  const freeze = html`${env.activeFreeze ? html`<div><span class="badge bad">frozen</span> until ${timeOf(env.activeFreeze.endsAt)} <span class="meta">(${env.activeFreeze.text})</span></div>` : ''}
${env.nextFreeze ? html`<div>next: ${timeOf(env.nextFreeze.startsAt)} – ${timeOf(env.nextFreeze.endsAt)}</div>` : ''}
${!env.activeFreeze && !env.nextFreeze ? html`<span class="meta">none</span>` : ''}`;
  const flags =
    env.redFlags.length > 0
      ? html`<ul>${env.redFlags.map(
          (flag) =>
            html`<li><span class="flag">${flag.version}:</span> ${flag.condition}${flag.note ? html` — ${flag.note}` : ''} <span class="meta">(${personLabel(names, flag.by)}, ${timeOf(flag.at)})</span></li>`,
        )}</ul>`
      : html`<span class="meta">none</span>`;
  return html`<tr data-env="${env.env}">
<th scope="row">${env.env}</th>
<td>${deployed}</td>
<td>${inFlight}</td>
<td>${lock}</td>
<td>${freeze}</td>
<td>${flags}</td>
</tr>`;
}

/** The part of the page that live updates replace. */
export function renderStatusBoard(page: StatusPage, signedIn: boolean): Html {
  const { board, names } = page;
  const upcoming =
    board.upcoming.length > 0
      ? html`<table><caption class="visually-hidden">Deploy windows coming up</caption>
<thead><tr><th scope="col">When</th><th scope="col">Release</th><th scope="col">Environment</th><th scope="col">Zone</th></tr></thead>
<tbody>${board.upcoming.map(
          (window) =>
            html`<tr><td>${timeOf(window.at)}</td><td>${releaseLabel(window, signedIn)}</td><td>${window.env}</td><td>${window.zone}</td></tr>`,
        )}</tbody></table>`
      : html`<p class="meta">No deploy window is planned.</p>`;
  return html`<h1>Deploy status</h1>
<p class="meta">As of ${timeOf(board.at)}.</p>
<table id="environments">
<caption class="visually-hidden">Each environment: what is deployed, what is in flight, locks, freezes and red flags</caption>
<thead><tr><th scope="col">Environment</th><th scope="col">Deployed</th><th scope="col">In flight</th><th scope="col">Lock</th><th scope="col">Freeze</th><th scope="col">Red flags</th></tr></thead>
<tbody>${board.environments.map((env) => environmentRow(env, names, signedIn))}</tbody>
</table>
<h2 id="upcoming">Upcoming deploy windows</h2>
${upcoming}`;
}

export function renderStatusPage(page: StatusPage, options: StatusViewOptions): string {
  return renderPage(
    {
      title: 'Deploy status',
      current: 'status',
      signedIn: options.signedIn,
      live: { eventsUrl: options.eventsUrl, refreshSeconds: options.refreshSeconds },
    },
    renderStatusBoard(page, options.signedIn),
  );
}
