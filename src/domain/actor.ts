// Who did something: a person in Slack (their user id), shipcheck itself, or a pipeline acting with one
// of the workspace's pipeline tokens. A pipeline is recorded as `pipeline:<token name>`; Slack ids never
// hold a colon, so the two cannot be mistaken for each other anywhere an actor is stored.

const PIPELINE_PREFIX = 'pipeline:';

export type PipelineActorId = `pipeline:${string}`;

export function pipelineActorId(tokenName: string): PipelineActorId {
  return `${PIPELINE_PREFIX}${tokenName}`;
}

/** The pipeline's token name when the actor is a pipeline, else undefined. */
export function pipelineNameOf(actorId: string): string | undefined {
  return actorId.startsWith(PIPELINE_PREFIX) ? actorId.slice(PIPELINE_PREFIX.length) : undefined;
}

export function isPipelineActor(actorId: string): boolean {
  return actorId.startsWith(PIPELINE_PREFIX);
}
