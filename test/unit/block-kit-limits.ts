// One checker of Slack's Block Kit limits for every message and modal the views render. It returns the
// violations as readable strings, so that a failing test says exactly which block broke which limit.
//
// Limits from https://docs.slack.dev/reference/block-kit/ (blocks, block elements, composition objects,
// views). Checked on the JSON, not the TypeScript types, so that nothing the renderer adds escapes it.

export const SLACK_LIMITS = {
  blocksPerMessage: 50,
  blocksPerModal: 100,
  sectionText: 3000,
  sectionFields: 10,
  sectionFieldText: 2000,
  headerText: 150,
  contextElements: 10,
  contextText: 3000,
  actionsElements: 25,
  checkboxOptions: 10,
  selectOptions: 100,
  optionText: 75,
  optionValue: 150,
  buttonText: 75,
  buttonValue: 2000,
  blockId: 255,
  actionId: 255,
  inputLabel: 2000,
  placeholder: 150,
  modalTitle: 24,
  modalButton: 24,
  privateMetadata: 3000,
  callbackId: 255,
  fallbackText: 3000,
} as const;

type Json = Record<string, unknown>;

const isObject = (value: unknown): value is Json =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

const asArray = (value: unknown): unknown[] => (Array.isArray(value) ? value : []);

function textOf(value: unknown): string | undefined {
  return isObject(value) && typeof value.text === 'string' ? value.text : undefined;
}

class Checker {
  readonly violations: string[] = [];

  /** Text must be present, non-empty and at most `max` characters long. */
  text(where: string, value: unknown, max: number): void {
    const text = textOf(value);
    if (text === undefined) this.violations.push(`${where}: missing text`);
    else if (text.trim() === '') this.violations.push(`${where}: empty text`);
    else if (text.length > max) this.violations.push(`${where}: text of ${text.length} > ${max}`);
  }

  plainText(where: string, value: unknown, max: number): void {
    if (isObject(value) && value.type !== 'plain_text')
      this.violations.push(`${where}: must be plain_text, is ${String(value.type)}`);
    this.text(where, value, max);
  }

  string(where: string, value: unknown, max: number, required = true): void {
    if (value === undefined) {
      if (required) this.violations.push(`${where}: missing`);
      return;
    }
    if (typeof value !== 'string') this.violations.push(`${where}: not a string`);
    else if (value === '') this.violations.push(`${where}: empty`);
    else if (value.length > max) this.violations.push(`${where}: ${value.length} > ${max}`);
  }

  count(where: string, list: unknown[], max: number, min = 1): void {
    if (list.length < min) this.violations.push(`${where}: ${list.length} < ${min}`);
    if (list.length > max) this.violations.push(`${where}: ${list.length} > ${max}`);
  }

  option(where: string, option: unknown): void {
    if (!isObject(option)) return void this.violations.push(`${where}: not an object`);
    this.text(`${where}.text`, option.text, SLACK_LIMITS.optionText);
    this.string(`${where}.value`, option.value, SLACK_LIMITS.optionValue);
  }

  options(where: string, element: Json, max: number): void {
    const options = asArray(element.options);
    this.count(`${where}.options`, options, max);
    for (const [index, option] of options.entries()) this.option(`${where}.options[${index}]`, option);
    const values = options.map((option) => (isObject(option) ? option.value : undefined));
    if (new Set(values).size !== values.length) this.violations.push(`${where}.options: duplicate values`);
    const initial = [
      ...asArray(element.initial_options),
      ...(element.initial_option ? [element.initial_option] : []),
    ];
    for (const chosen of initial) {
      const known = options.some((option) => JSON.stringify(option) === JSON.stringify(chosen));
      if (!known) this.violations.push(`${where}: an initial option is not one of the options`);
    }
  }

  element(where: string, element: unknown, actionIds: Set<string>): void {
    if (!isObject(element)) return void this.violations.push(`${where}: not an object`);
    if (element.action_id !== undefined) {
      this.string(`${where}.action_id`, element.action_id, SLACK_LIMITS.actionId);
      const actionId = String(element.action_id);
      if (actionIds.has(actionId))
        this.violations.push(`${where}.action_id: "${actionId}" repeated in its block`);
      actionIds.add(actionId);
    }
    switch (element.type) {
      case 'button':
        this.plainText(`${where}.text`, element.text, SLACK_LIMITS.buttonText);
        this.string(`${where}.value`, element.value, SLACK_LIMITS.buttonValue, false);
        break;
      case 'checkboxes':
        this.options(where, element, SLACK_LIMITS.checkboxOptions);
        break;
      case 'static_select':
        this.options(where, element, SLACK_LIMITS.selectOptions);
        break;
      case 'plain_text_input':
      case 'number_input':
      case 'users_select':
      case 'multi_conversations_select':
        if (element.placeholder !== undefined)
          this.plainText(`${where}.placeholder`, element.placeholder, SLACK_LIMITS.placeholder);
        break;
      case 'mrkdwn':
      case 'plain_text':
        this.text(where, element, SLACK_LIMITS.contextText);
        break;
      default:
        this.violations.push(`${where}: element type ${String(element.type)} is not checked here`);
    }
  }

  block(where: string, block: unknown): void {
    if (!isObject(block)) return void this.violations.push(`${where}: not an object`);
    switch (block.type) {
      case 'section': {
        const fields = asArray(block.fields);
        if (block.text === undefined && fields.length === 0)
          this.violations.push(`${where}: a section needs text or fields`);
        if (block.text !== undefined) this.text(`${where}.text`, block.text, SLACK_LIMITS.sectionText);
        if (block.fields !== undefined) {
          this.count(`${where}.fields`, fields, SLACK_LIMITS.sectionFields);
          for (const [index, field] of fields.entries())
            this.text(`${where}.fields[${index}]`, field, SLACK_LIMITS.sectionFieldText);
        }
        if (block.accessory !== undefined) this.element(`${where}.accessory`, block.accessory, new Set());
        break;
      }
      case 'header':
        this.plainText(`${where}.text`, block.text, SLACK_LIMITS.headerText);
        break;
      case 'context': {
        const elements = asArray(block.elements);
        this.count(`${where}.elements`, elements, SLACK_LIMITS.contextElements);
        for (const [index, element] of elements.entries())
          this.element(`${where}.elements[${index}]`, element, new Set());
        break;
      }
      case 'actions': {
        const elements = asArray(block.elements);
        this.count(`${where}.elements`, elements, SLACK_LIMITS.actionsElements);
        const actionIds = new Set<string>();
        for (const [index, element] of elements.entries())
          this.element(`${where}.elements[${index}]`, element, actionIds);
        break;
      }
      case 'input':
        this.plainText(`${where}.label`, block.label, SLACK_LIMITS.inputLabel);
        this.element(`${where}.element`, block.element, new Set());
        break;
      case 'divider':
        break;
      default:
        this.violations.push(`${where}: block type ${String(block.type)} is not checked here`);
    }
  }

  blocks(blocks: unknown, max: number): void {
    const list = asArray(blocks);
    this.count('blocks', list, max);
    const blockIds = new Set<string>();
    list.forEach((block, index) => {
      const where = `blocks[${index}]`;
      if (isObject(block) && block.block_id !== undefined) {
        this.string(`${where}.block_id`, block.block_id, SLACK_LIMITS.blockId);
        const blockId = String(block.block_id);
        if (blockIds.has(blockId)) this.violations.push(`${where}.block_id: "${blockId}" is not unique`);
        blockIds.add(blockId);
      }
      this.block(where, block);
    });
  }
}

/** A message (with its notification fallback `text`) or a modal view. */
export type Surface = { text?: unknown; blocks?: unknown } | { type: 'modal'; [key: string]: unknown };

/** Every way the message or modal breaks Slack's limits; empty when it respects them all. */
export function blockKitViolations(surface: Surface): string[] {
  const checker = new Checker();
  const json = surface as Json;
  if (json.type === 'modal') {
    checker.plainText('title', json.title, SLACK_LIMITS.modalTitle);
    if (json.submit !== undefined) checker.plainText('submit', json.submit, SLACK_LIMITS.modalButton);
    if (json.close !== undefined) checker.plainText('close', json.close, SLACK_LIMITS.modalButton);
    checker.string('private_metadata', json.private_metadata, SLACK_LIMITS.privateMetadata, false);
    checker.string('callback_id', json.callback_id, SLACK_LIMITS.callbackId, false);
    checker.blocks(json.blocks, SLACK_LIMITS.blocksPerModal);
  } else {
    checker.string('text', json.text, SLACK_LIMITS.fallbackText);
    if (typeof json.text === 'string' && json.text.trim() === '') checker.violations.push('text: blank');
    if (json.blocks !== undefined) checker.blocks(json.blocks, SLACK_LIMITS.blocksPerMessage);
  }
  return checker.violations;
}
