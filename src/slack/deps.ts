import type { Relay } from '../app/relay.js';
import type { Config } from '../config/env.js';
import type { Template } from '../domain/template.js';
import type { Scheduler } from '../jobs/scheduler.js';
import type { SyncQueue } from '../jobs/sync-queue.js';
import type { Logger } from '../log.js';
import type { RelayStore } from '../store/relay-store.js';
import type { ReleaseStore } from '../store/release-store.js';
import type { RoleDirectory } from './access.js';
import type { SlackOutbound } from './outbound.js';

export interface SlackDeps {
  config: Config;
  log: Logger;
  store: ReleaseStore;
  syncQueue: SyncQueue;
  /** Told of every committed change; everything that follows from it comes from the record. */
  relay: Pick<Relay, 'committed'>;
  relayStore: Pick<RelayStore, 'noteTeam'>;
  scheduler: Scheduler;
  outbound: SlackOutbound;
  roles: RoleDirectory;
  templates: ReadonlyMap<string, Template>;
}
