import type { Config } from '../config/env.js';
import type { Template } from '../domain/template.js';
import type { Logger } from '../log.js';
import type { SyncQueue } from '../queues/sync-queue.js';
import type { RelayStore } from '../store/relay-store.js';
import type { ReleaseStore } from '../store/release-store.js';
import type { RoleDirectory } from './access.js';
import type { Relay } from './relay.js';

/**
 * What the application layer works with: the record, who holds which role, the templates, and the
 * relay that every committed change is handed to. Nothing of Slack's: the same commands serve any
 * front door.
 */
export interface AppDeps {
  config: Config;
  log: Logger;
  store: ReleaseStore;
  roles: RoleDirectory;
  templates: ReadonlyMap<string, Template>;
  /** Told of every committed change; everything that follows from it comes from the record. */
  relay: Pick<Relay, 'committed'>;
  relayStore: Pick<RelayStore, 'noteTeam'>;
  /** A refused click left the box as the person clicked it: their release's messages are redrawn. */
  syncQueue: Pick<SyncQueue, 'requestSync'>;
}
