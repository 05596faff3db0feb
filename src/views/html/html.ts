import { TZDate } from '@date-fns/tz';
import { format } from 'date-fns';

// The one way HTML is written here: the `html` template tag escapes every value put into it, in text
// and in (double-quoted) attributes alike, unless the value is already HTML made by this tag. Markup
// from elsewhere (the charts' SVG) comes in only through `trustedMarkup`, named so it stands out.

export class Html {
  constructor(readonly text: string) {}
  toString(): string {
    return this.text;
  }
}

export type HtmlValue = Html | string | number | boolean | undefined | null | readonly HtmlValue[];

const ESCAPES: Record<string, string> = {
  '&': '&amp;',
  '<': '&lt;',
  '>': '&gt;',
  '"': '&quot;',
  "'": '&#39;',
  '`': '&#96;',
};

/** Text safe inside an element and inside a quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"'`]/g, (character) => ESCAPES[character]!);
}

function render(value: HtmlValue): string {
  if (value instanceof Html) return value.text;
  if (Array.isArray(value)) return value.map(render).join('');
  // false, null and undefined render as nothing, so `condition && html\`…\`` reads naturally.
  if (value === undefined || value === null || value === false) return '';
  return escapeHtml(String(value));
}

export function html(strings: TemplateStringsArray, ...values: HtmlValue[]): Html {
  let out = strings[0]!;
  values.forEach((value, index) => {
    out += render(value) + strings[index + 1]!;
  });
  return new Html(out);
}

/** Markup produced by code we trust to escape its own text (the chart library); never user input. */
export function trustedMarkup(markup: string): Html {
  return new Html(markup);
}

/** "2026-12-05 14:00 UTC" in a <time> element that carries the exact moment. */
export function timeOf(at: number): Html {
  const iso = new Date(at).toISOString();
  return html`<time datetime="${iso}">${format(new TZDate(at, 'UTC'), 'yyyy-MM-dd HH:mm')} UTC</time>`;
}

/** Only web links are followed; anything else (javascript:, data:) is dropped. */
export function safeWebUrl(url: string | undefined): string | undefined {
  return url !== undefined && /^https:\/\/[^\s"'<>]+$/.test(url) ? url : undefined;
}
