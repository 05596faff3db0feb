import type { Config } from '../config/env.js';
import type { Template } from '../domain/template.js';
import type { Scheduler } from '../jobs/scheduler.js';
import type { SyncQueue } from '../jobs/sync-queue.js';
import type { Logger } from '../log.js';
import type { ReleaseStore } from '../store/release-store.js';
import type { RoleDirectory } from './access.js';
import type { SlackOutbound } from './outbound.js';

export interface SlackDeps {
  config: Config;
  log: Logger;
  store: ReleaseStore;
  syncQueue: SyncQueue;
  scheduler: Scheduler;
  outbound: SlackOutbound;
  roles: RoleDirectory;
  templates: ReadonlyMap<string, Template>;
}
