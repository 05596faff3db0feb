// Every Redis key shipcheck uses is built here. All keys of one Slack workspace share the hash tag
// {teamId}, so a script may touch several of them on one Redis Cluster slot.

/** Applied-request markers outlive any retry Slack or a job queue would make. */
export const APPLIED_REQUEST_TTL_SEC = 3600;

export function createKeys(prefix: string) {
  const team = (teamId: string) => `${prefix}:{${teamId}}`;
  const release = (teamId: string, releaseId: string) => `${team(teamId)}:release:${releaseId}`;
  return {
    /** Hash: the release's fields, per-phase open counters (open:<n>) and overrides (ovr:<n>). */
    releaseMeta: (teamId: string, releaseId: string) => release(teamId, releaseId),
    /** String: the release's copy of its template (JSON); the meta hash names it by fingerprint. */
    releaseTemplate: (teamId: string, releaseId: string) => `${release(teamId, releaseId)}:template`,
    /** Hash: item id → JSON {done, by, at} for every item that was ever changed. */
    releaseItems: (teamId: string, releaseId: string) => `${release(teamId, releaseId)}:items`,
    /** Hash: item id → "<phase index>|<1 if required else 0>", written once at start. */
    releaseIndex: (teamId: string, releaseId: string) => `${release(teamId, releaseId)}:index`,
    /** Stream: the append-only audit trail. */
    releaseAudit: (teamId: string, releaseId: string) => `${release(teamId, releaseId)}:audit`,
    /** Hash: event id → "<key id>:<seal>", the keyed seal the relay wrote for each audit event. */
    releaseSeals: (teamId: string, releaseId: string) => `${release(teamId, releaseId)}:seals`,
    /** Hash: where the release's Slack messages are (header, phase parts) and what they last showed. */
    releaseMessages: (teamId: string, releaseId: string) => `${release(teamId, releaseId)}:messages`,
    /** Hash: user id → JSON {name, realName, at}: each person's names when first named in the release. */
    releasePeople: (teamId: string, releaseId: string) => `${release(teamId, releaseId)}:people`,
    /** Hash: user id → JSON {name, realName, at}: the workspace's last users.info answer per person. */
    peopleCache: (teamId: string) => `${team(teamId)}:people`,
    /** Set: ids of the release's pending scheduled jobs, so they can be removed when it changes. */
    releaseJobs: (teamId: string, releaseId: string) => `${release(teamId, releaseId)}:jobs`,
    /** Hash: "<env>|<version>" → id of the active release. */
    activeReleases: (teamId: string) => `${team(teamId)}:active`,
    /**
     * Sorted set: ids of the workspace's releases with audit events whose follow-ups are not queued
     * yet, scored by the oldest such event's time. Written by the scripts that append events
     * (includes/release.lua derives the name from the meta key); emptied by the relay.
     */
    unrelayed: (teamId: string) => `${team(teamId)}:relay`,
    /**
     * Sorted set: ids of the workspace's releases whose Slack messages may not show their latest
     * committed state yet, scored by when a sync was last asked for. A sync that succeeds takes its
     * release out; the relay asks again for those left too long (Slack was failing).
     */
    unsynced: (teamId: string) => `${team(teamId)}:unsynced`,
    /** String with a short TTL: the instance relaying one release's events. */
    relayLease: (teamId: string, releaseId: string) => `${release(teamId, releaseId)}:relaylease`,
    /** Set: every workspace that ever started a release, for the relay's sweep. */
    teams: () => `${prefix}:teams`,
    /** Hash: environment → JSON {releaseId, since, by, version} of the release deploying to it. */
    envLocks: (teamId: string) => `${team(teamId)}:locks`,
    /** Set: people to tell by DM when an environment's lock is freed. */
    lockWaiters: (teamId: string, env: string) => `${team(teamId)}:lockwaiters:${env}`,
    /** SCAN pattern matching every workspace's sorted set of releases. */
    allReleasesPattern: () => `${prefix}:{*}:releases`,
    /** String: the cut-off (epoch ms) of the workspace's last retention sweep. */
    retentionCutoff: (teamId: string) => `${team(teamId)}:retention`,
    /** String with a short TTL: held while one instance schedules the retention sweep. */
    retentionLock: () => `${prefix}:lock:retention`,
    /** SCAN pattern matching every workspace's active releases hash. */
    activeReleasesPattern: () => `${prefix}:{*}:active`,
    /** Sorted set: release ids by start time. */
    allReleases: (teamId: string) => `${team(teamId)}:releases`,
    /** Sorted set: ids of the releases of one version, by start time. */
    versionReleases: (teamId: string, version: string) => `${team(teamId)}:version:${version}`,
    releaseSequence: (teamId: string) => `${team(teamId)}:seq`,
    /** String with a TTL: marks a request (a slash command's trigger, a click) as already applied. */
    appliedRequest: (teamId: string, requestId: string) => `${team(teamId)}:applied:${requestId}`,
    /**
     * Sorted set: clicks read but not yet committed, by when they were read. The commit takes its
     * click out; one left for long was lost with its process (src/store/click-store.ts).
     */
    pendingClicks: (teamId: string) => `${team(teamId)}:clicks`,
    /** Hash: click id → JSON of a pending click (who, which item, where to tell them). */
    pendingClickDetails: (teamId: string) => `${team(teamId)}:clicks:detail`,
    /** String with a TTL: the ts of a message shipcheck posted exactly once (a reminder, a check-in). */
    deliveryDone: (teamId: string, deliveryKey: string) => `${team(teamId)}:delivery:${deliveryKey}:done`,
    /** String with a short TTL: the instance currently posting that message. */
    deliveryLease: (teamId: string, deliveryKey: string) => `${team(teamId)}:delivery:${deliveryKey}:lease`,
    /** String with a TTL: when the first attempt to post it began; a later attempt looks in Slack first. */
    deliveryAttempt: (teamId: string, deliveryKey: string) =>
      `${team(teamId)}:delivery:${deliveryKey}:attempt`,
    /**
     * String with a TTL: a check-in's metric evaluation (JSON), taken before its post; every attempt
     * at the post renders and records the same numbers.
     */
    checkinMetrics: (teamId: string, releaseId: string, checkinIndex: number) =>
      `${release(teamId, releaseId)}:metrics:checkin:${checkinIndex}`,
    /** Hash: criterion id → JSON {misses, tick} of the release's metric watch (misses in a row). */
    metricWatch: (teamId: string, releaseId: string) => `${release(teamId, releaseId)}:metrics:watch`,
    /** Hash: user id → the id of shipcheck's direct-message conversation with them. */
    directMessageChannels: (teamId: string) => `${team(teamId)}:dm`,
    /** String: the earliest time the next chat.postMessage to a channel may go. */
    postPacer: (channelId: string) => `${prefix}:pace:post:${channelId}`,
    /** String: the earliest time the next chat.update in a workspace may go. */
    updatePacer: (teamId: string) => `${prefix}:pace:update:${teamId}`,
    /** String: the earliest time the next views.publish of a Home refresh in a workspace may go. */
    homePacer: (teamId: string) => `${prefix}:pace:home:${teamId}`,
    /** Sorted set: people who opened the Home tab, by when they last did. */
    homeViewers: (teamId: string) => `${team(teamId)}:home:viewers`,
    /** Hash: user id → fingerprint of the Home tab last published for them. */
    homeRendered: (teamId: string) => `${team(teamId)}:home:rendered`,
    /**
     * String: the workspace a pipeline token belongs to, by token id. Global, because a request shows
     * its token before its workspace is known; the record itself lives under the workspace.
     */
    pipelineTokenTeam: (tokenId: string) => `${prefix}:pipeline-token:${tokenId}`,
    /** Hash: a pipeline token's record (name, environments, SHA-256 of its secret, who made it, last use). */
    pipelineToken: (teamId: string, tokenId: string) => `${team(teamId)}:token:${tokenId}`,
    /** Hash: token name → token id, for the workspace's tokens in use. */
    pipelineTokenNames: (teamId: string) => `${team(teamId)}:tokens`,
    /** Stream (capped): who created, revoked or was refused managing the workspace's pipeline tokens. */
    pipelineTokenAudit: (teamId: string) => `${team(teamId)}:token-audit`,
    /** String: JSON of an API request made with an Idempotency-Key, and its response once answered. */
    apiIdempotency: (teamId: string, tokenId: string, keyHash: string) =>
      `${team(teamId)}:api-idem:${tokenId}:${keyHash}`,
    /** String: a counter of one token's API requests in one rate-limit window. */
    apiRate: (teamId: string, tokenId: string, window: number) =>
      `${team(teamId)}:api-rate:${tokenId}:${window}`,
  };
}

export type Keys = ReturnType<typeof createKeys>;
