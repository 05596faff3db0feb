import type { AllMiddlewareArgs, App, SlackActionMiddlewareArgs, SlackViewMiddlewareArgs } from '@slack/bolt';

// Bolt runs the matching middleware of every registered listener for every request, and shipcheck
// has some thirty action and view listeners: on a click that was most of the CPU it spent beyond a
// bare Bolt app. Listeners register here instead; Bolt sees one action and one view listener, which
// pass each request to the listeners whose action_id or callback_id it matches, as Bolt would.

type Constraint = string | RegExp;
export type ActionArgs = SlackActionMiddlewareArgs & AllMiddlewareArgs;
export type ViewArgs = SlackViewMiddlewareArgs & AllMiddlewareArgs;

interface Route<Args> {
  constraint: Constraint;
  listener: (args: Args) => Promise<void>;
}

/** The part of Bolt's App that listeners register with. */
export type ListenerApp = Pick<App, 'action' | 'view' | 'command' | 'event'>;

function matches(constraint: Constraint, id: string | undefined): boolean {
  if (id === undefined) return false;
  return typeof constraint === 'string' ? constraint === id : id.match(constraint) !== null;
}

/** Runs every route that matches, together, as Bolt runs its listeners; none that matches is left unacked. */
async function dispatch<Args>(
  routes: readonly Route<Args>[],
  id: string | undefined,
  args: Args,
  unmatched: (args: Args) => Promise<void>,
) {
  const matching = routes.filter((route) => matches(route.constraint, id));
  if (matching.length === 0) return unmatched(args);
  await Promise.all(matching.map((route) => route.listener(args)));
}

/**
 * What happens to a request no listener matches: a button of a message an older version posted, or a
 * forged id. It must still be acked at once, or Slack shows the person an error after 3 s.
 */
export interface UnmatchedHandlers {
  action: (args: ActionArgs) => Promise<void>;
  view: (args: ViewArgs) => Promise<void>;
}

const ackOnly: UnmatchedHandlers = {
  action: async ({ ack }) => ack(),
  view: async ({ ack }) => ack(),
};

export function createListenerRouter(app: App, unmatched: UnmatchedHandlers = ackOnly): ListenerApp {
  const actions: Route<ActionArgs>[] = [];
  const views: Route<ViewArgs>[] = [];
  const closedViews: Route<ViewArgs>[] = [];
  app.action(/^/, (args) =>
    dispatch(actions, (args.action as { action_id?: string }).action_id, args, unmatched.action),
  );
  app.view(/^/, (args) => dispatch(views, args.view.callback_id, args, unmatched.view));

  const action = (
    constraint: Constraint | { action_id: Constraint },
    listener: Route<ActionArgs>['listener'],
  ) => {
    const actionId =
      typeof constraint === 'object' && !(constraint instanceof RegExp) ? constraint.action_id : constraint;
    actions.push({ constraint: actionId, listener });
  };
  const view = (
    constraint: Constraint | { callback_id: Constraint; type: 'view_closed' },
    listener: Route<ViewArgs>['listener'],
  ) => {
    if (typeof constraint === 'string' || constraint instanceof RegExp) {
      views.push({ constraint, listener });
      return;
    }
    // Bolt hands a closed modal only to listeners that ask for view_closed: one catch-all, on first use.
    if (closedViews.length === 0) {
      app.view({ callback_id: /^/, type: 'view_closed' }, (args) =>
        dispatch(closedViews, args.view.callback_id, args, ackOnly.view),
      );
    }
    closedViews.push({ constraint: constraint.callback_id, listener });
  };
  return {
    // Bolt's overloads are generic over the payload; the routes keep each listener's own typing.
    action: action as unknown as App['action'],
    view: view as unknown as App['view'],
    command: app.command.bind(app),
    event: app.event.bind(app),
  };
}
