import { type Html, html } from './html.js';

// The frame every page shares: accessible landmarks, the stylesheet, and the navigation between the
// pages a visitor may open. Styles and script are files of their own (see assets.ts) so that the
// Content-Security-Policy can forbid inline script.

export const ASSET_PATHS = { stylesheet: '/status/assets/site.css', liveScript: '/status/assets/live.js' };

export interface PageFrame {
  title: string;
  /** Which page this is, for the navigation's aria-current. */
  current: 'status' | 'release' | 'stats' | 'error';
  /** Whether links to the private pages (releases, stats) are shown: a public wall display has none. */
  signedIn: boolean;
  /** Server-sent events keep the page current; without script a meta refresh does, this often. */
  live?: { eventsUrl: string; refreshSeconds: number };
}

export function renderPage(frame: PageFrame, body: Html): string {
  const nav = html`<nav aria-label="Pages"><ul>
<li><a href="/status"${frame.current === 'status' ? html` aria-current="page"` : ''}>Status</a></li>
${frame.signedIn ? html`<li><a href="/stats"${frame.current === 'stats' ? html` aria-current="page"` : ''}>Delivery figures</a></li>` : ''}
</ul></nav>`;
  const live = frame.live
    ? html`<noscript><meta http-equiv="refresh" content="${frame.live.refreshSeconds}"></noscript>
<script src="${ASSET_PATHS.liveScript}" defer></script>`
    : '';
  return html`<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="referrer" content="no-referrer">
<title>${frame.title} · shipcheck</title>
<link rel="icon" href="data:,">
<link rel="stylesheet" href="${ASSET_PATHS.stylesheet}">
${live}
</head>
<body>
<header class="site"><a class="brand" href="/status">shipcheck</a>${nav}</header>
<main id="main"${frame.live ? html` data-live="${frame.live.eventsUrl}"` : ''}>
${body}
</main>
</body>
</html>
`.text;
}

/** The short page for 403 and 404: says what happened and what to do, nothing more. */
export function renderMessagePage(title: string, message: string, signedIn: boolean): string {
  return renderPage({ title, current: 'error', signedIn }, html`<h1>${title}</h1><p>${message}</p>`);
}
