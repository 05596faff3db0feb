// The stylesheet and the one small script of the status pages, served as files.

export const STYLESHEET = `
:root { color-scheme: light; --ink: #1d1f24; --muted: #5b6070; --line: #d7dae2; --bg: #f6f7f9;
  --ok: #1a7f37; --warn: #9a6700; --bad: #c62828; --accent: #2f5bd3; }
* { box-sizing: border-box; }
body { margin: 0; font: 15px/1.5 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; color: var(--ink); background: var(--bg); }
header.site { display: flex; gap: 2rem; align-items: center; padding: .75rem 1.5rem; background: #fff; border-bottom: 1px solid var(--line); }
header.site .brand { font-weight: 700; color: var(--ink); text-decoration: none; }
header.site ul { display: flex; gap: 1.25rem; list-style: none; margin: 0; padding: 0; }
header.site a[aria-current="page"] { font-weight: 600; text-decoration: underline; }
a { color: var(--accent); }
main { padding: 1.25rem 1.5rem 3rem; max-width: 1200px; }
h1 { font-size: 1.5rem; margin: .25rem 0 1rem; }
h2 { font-size: 1.15rem; margin: 1.75rem 0 .5rem; }
.meta { color: var(--muted); }
table { border-collapse: collapse; width: 100%; background: #fff; border: 1px solid var(--line); }
caption { text-align: left; font-weight: 600; padding: 1rem 0 .35rem; }
th, td { text-align: left; vertical-align: top; padding: .5rem .65rem; border-bottom: 1px solid var(--line); }
thead th { background: #eef0f4; font-size: .85rem; text-transform: uppercase; letter-spacing: .03em; color: var(--muted); }
td ul { margin: 0; padding-left: 1.1rem; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: .6rem; font-size: .8rem; font-weight: 600; background: #e6e8ee; }
.badge.ok { background: #dcf3e3; color: var(--ok); }
.badge.warn { background: #fdf0d0; color: var(--warn); }
.badge.bad { background: #fde2e1; color: var(--bad); }
progress { width: 7rem; vertical-align: middle; }
.flag { color: var(--bad); font-weight: 600; }
.charts { display: grid; grid-template-columns: repeat(auto-fit, minmax(460px, 1fr)); gap: 1rem; }
figure { margin: 0; padding: .75rem; background: #fff; border: 1px solid var(--line); }
figcaption { font-weight: 600; margin-bottom: .25rem; }
figure svg { max-width: 100%; height: auto; }
form.filters { display: flex; gap: .75rem; align-items: end; flex-wrap: wrap; margin-bottom: 1rem; }
form.filters label { display: grid; font-size: .85rem; color: var(--muted); }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1.25rem; margin: 0 0 1rem; }
dl.facts dt { color: var(--muted); }
dl.facts dd { margin: 0; }
li.item { list-style: none; margin-left: -1.1rem; }
li.item::before { display: inline-block; width: 1.1rem; font-weight: 700; }
li.item.done::before { content: "\\2713"; color: var(--ok); }
li.item.open::before { content: "\\25CB"; color: var(--muted); }
li.item.skipped::before { content: "\\2192"; color: var(--bad); }
ol.timeline { list-style: none; padding: 0; margin: 0; border-left: 2px solid var(--line); }
ol.timeline li { position: relative; margin: 0 0 .6rem 1rem; }
.verdict-ok { color: var(--ok); font-weight: 600; }
.verdict-bad { color: var(--bad); font-weight: 600; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
`;

/**
 * Progressive enhancement of the status page: with script, the board is replaced in place whenever the
 * server says it changed (server-sent events); without, a meta refresh reloads it.
 */
export const LIVE_SCRIPT = `(() => {
  const main = document.querySelector('main[data-live]');
  if (!main || !('EventSource' in window)) return;
  const source = new EventSource(main.getAttribute('data-live'));
  source.addEventListener('board', (event) => {
    main.innerHTML = event.data;
    main.setAttribute('data-updated', String(Date.now()));
  });
})();
`;
