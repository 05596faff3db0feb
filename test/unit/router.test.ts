import type { App } from '@slack/bolt';
import { describe, expect, it } from 'vitest';
import { createListenerRouter } from '../../src/slack/router.js';

// The listener router: Bolt sees one action and one view listener, and each request reaches exactly
// the listeners whose constraint matches, as it would if they were registered with Bolt.

type Catchall = (args: unknown) => Promise<void>;

function fakeApp() {
  const registered: { action?: Catchall; view?: Catchall; actionCount: number; viewCount: number } = {
    actionCount: 0,
    viewCount: 0,
  };
  const app = {
    action: (_constraint: unknown, listener: Catchall) => {
      registered.action = listener;
      registered.actionCount++;
    },
    view: (_constraint: unknown, listener: Catchall) => {
      registered.view = listener;
      registered.viewCount++;
    },
    command: () => undefined,
    event: () => undefined,
  };
  return { app: app as unknown as App, registered };
}

describe('createListenerRouter', () => {
  it('passes a click to the listeners whose action_id constraint matches, and to no other', async () => {
    const { app, registered } = fakeApp();
    const router = createListenerRouter(app);
    const calls: string[] = [];
    router.action('deploy.go', async () => void calls.push('exact'));
    router.action({ action_id: /^item\|/ }, async () => void calls.push('pattern'));
    router.action(/^item\|r1\|/, async () => void calls.push('second pattern'));
    router.action('deploy.go.later', async () => void calls.push('other'));

    await registered.action!({ action: { action_id: 'item|r1|smoke' } });
    expect(calls.sort()).toEqual(['pattern', 'second pattern']);
    calls.length = 0;
    await registered.action!({ action: { action_id: 'deploy.go' } });
    expect(calls).toEqual(['exact']);
    calls.length = 0;
    const ack = async () => undefined;
    await registered.action!({ action: { action_id: 'retired.button' }, ack });
    await registered.action!({ action: {}, ack });
    expect(calls).toEqual([]);
    expect(registered.actionCount).toBe(1);
  });

  it('passes a modal submission by callback_id, with the request’s own arguments', async () => {
    const { app, registered } = fakeApp();
    const router = createListenerRouter(app);
    const seen: unknown[] = [];
    router.view('start-release', async (args) => void seen.push(args));
    router.view(/^owners/, async () => void seen.push('owners'));

    const args = { view: { callback_id: 'start-release' } };
    await registered.view!(args);
    expect(seen).toEqual([args]);
    await registered.view!({ view: { callback_id: 'unknown' }, ack: async () => undefined });
    expect(seen).toHaveLength(1);
    expect(registered.viewCount).toBe(1);
  });

  it('hands a request no route matches to the unmatched handler, and by default only acks it', async () => {
    const { app, registered } = fakeApp();
    const unmatched: string[] = [];
    const router = createListenerRouter(app, {
      action: async (args) => void unmatched.push(`action ${args.action.type}`),
      view: async (args) => void unmatched.push(`view ${args.view.callback_id}`),
    });
    router.action('known', async () => void unmatched.push('routed'));
    await registered.action!({ action: { action_id: 'retired.button', type: 'button' } });
    await registered.view!({ view: { callback_id: 'retired-modal' } });
    await registered.action!({ action: { action_id: 'known', type: 'button' } });
    expect(unmatched).toEqual(['action button', 'view retired-modal', 'routed']);

    const plain = fakeApp();
    createListenerRouter(plain.app);
    let acks = 0;
    const ack = async () => void acks++;
    await plain.registered.action!({ action: { action_id: 'retired.button' }, ack });
    await plain.registered.view!({ view: { callback_id: 'retired-modal' }, ack });
    expect(acks).toBe(2);
  });

  it('lets a listener’s failure reach Bolt', async () => {
    const { app, registered } = fakeApp();
    const router = createListenerRouter(app);
    router.action('boom', async () => {
      throw new Error('listener failed');
    });
    await expect(registered.action!({ action: { action_id: 'boom' } })).rejects.toThrow('listener failed');
  });
});

describe('createListenerRouter and closed modals', () => {
  it('asks Bolt for view_closed once, when a listener wants it, and passes closes to it alone', async () => {
    const views: { constraint: unknown; listener: Catchall }[] = [];
    const app = {
      action: () => undefined,
      view: (constraint: unknown, listener: Catchall) => void views.push({ constraint, listener }),
      command: () => undefined,
      event: () => undefined,
    } as unknown as App;
    const router = createListenerRouter(app);
    expect(views).toHaveLength(1);
    const seen: string[] = [];
    router.view('item.record', async () => void seen.push('submitted'));
    router.view({ callback_id: 'item.record', type: 'view_closed' }, async () => void seen.push('closed'));
    router.view({ callback_id: /^other\./, type: 'view_closed' }, async () => void seen.push('other closed'));
    expect(views).toHaveLength(2);
    expect(views[1]!.constraint).toEqual({ callback_id: /^/, type: 'view_closed' });

    await views[1]!.listener({ view: { callback_id: 'item.record' } });
    await views[0]!.listener({ view: { callback_id: 'item.record' } });
    expect(seen).toEqual(['closed', 'submitted']);
    let acks = 0;
    await views[1]!.listener({ view: { callback_id: 'unknown' }, ack: async () => void acks++ });
    expect(acks).toBe(1);
  });
});
