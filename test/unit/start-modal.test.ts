import { describe, expect, it } from 'vitest';
import { renderStartModal } from '../../src/views/start-modal.js';
import { blockKitViolations } from './block-kit-limits.js';

describe('renderStartModal', () => {
  const templates = [
    { id: 'standard', name: 'Standard release' },
    { id: 'hotfix', name: 'Hotfix' },
  ];

  it('asks for what the command takes and what stakeholders are told, within Slack’s limits', () => {
    const view = renderStartModal(
      ['production', 'staging'],
      templates,
      { env: 'production', templateId: 'standard' },
      { channelId: 'C0DEPLOY', zone: 'Europe/Berlin' },
    );
    expect(blockKitViolations(view)).toEqual([]);
    expect(view.blocks.map((block) => block.block_id)).toEqual([
      'version',
      'env',
      'template',
      'window',
      'notes',
      'downtime',
      'stakeholders',
    ]);
    expect(JSON.parse(view.private_metadata!)).toEqual({ channelId: 'C0DEPLOY', zone: 'Europe/Berlin' });
    const optional = view.blocks
      .filter((block) => block.type === 'input' && (block as { optional?: boolean }).optional)
      .map((block) => block.block_id);
    expect(optional).toEqual(['window', 'notes', 'downtime', 'stakeholders']);
    expect(JSON.stringify(view.blocks[1])).toContain(
      '"initial_option":{"text":{"type":"plain_text","text":"production"}',
    );
  });

  it('starts without a default it does not have', () => {
    const view = renderStartModal(
      ['staging'],
      templates,
      { env: 'production', templateId: 'standard' },
      {
        channelId: 'C0DEPLOY',
        zone: 'UTC',
      },
    );
    expect(JSON.stringify(view.blocks[1])).not.toContain('initial_option');
  });
});
