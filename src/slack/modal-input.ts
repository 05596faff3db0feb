import type { ViewOutput } from '@slack/bolt';

// Reading a submitted modal's inputs: Slack nests each value under its block id and action id, and
// leaves an input out entirely when an optional field was left empty. A payload without `state` at all
// reads as empty too, so the form answers with its field errors instead of throwing before the ack.

/** The trimmed text of a plain-text input; empty when it was left out. */
export function modalText(view: ViewOutput, blockId: string, actionId: string): string {
  return (view.state?.values?.[blockId]?.[actionId]?.value ?? '').trim();
}

/** The value of the option chosen in a select or radio group, or undefined when none was. */
export function modalChoice(view: ViewOutput, blockId: string, actionId: string): string | undefined {
  return view.state?.values?.[blockId]?.[actionId]?.selected_option?.value;
}
