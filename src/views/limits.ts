// Slack's Block Kit limits that shipcheck's views are built to respect.
export const BlockKitLimits = {
  blocksPerMessage: 50,
  blocksPerModal: 100,
  sectionText: 3000,
  sectionFields: 10,
  sectionFieldText: 2000,
  headerText: 150,
  contextElements: 10,
  checkboxOptions: 10,
  optionText: 75,
  optionValue: 150,
  buttonText: 75,
  buttonValue: 2000,
  blockId: 255,
  actionId: 255,
  modalTitle: 24,
  privateMetadata: 3000,
  /** Notification fallback text; Slack truncates messages far above this. */
  fallbackText: 3000,
} as const;
