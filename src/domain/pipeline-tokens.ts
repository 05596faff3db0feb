// Pipeline tokens: how a CI/CD pipeline proves which workspace it acts for, and where it may act.
// A token reads `shpk_<tokenId>_<secret>`; the id finds the record (a workspace cannot be known before
// the token is checked), the secret proves it. The name is what people see as the actor in Slack.

export const TOKEN_PREFIX = 'shpk_';
/** Characters of the random id: long enough never to collide within a deployment. */
export const TOKEN_ID_LENGTH = 12;
/** Random bytes behind the secret, written base64url. */
export const TOKEN_SECRET_BYTES = 32;

export interface PipelineToken {
  tokenId: string;
  teamId: string;
  name: string;
  environments: readonly string[] | 'all';
  createdBy: string;
  createdAt: number;
  lastUsedAt?: number;
  /** The channel the token was created in: where releases its pipeline starts are posted. */
  channelId?: string;
}

/** Who a request that showed a valid token acts as. */
export interface PipelineIdentity {
  teamId: string;
  tokenId: string;
  name: string;
  environments: readonly string[] | 'all';
  /** Where releases this pipeline starts are posted (the channel the token was created in). */
  channelId?: string;
}

const BASE64URL = '[A-Za-z0-9_-]';
// The id is alphanumeric, so the `_` after it ends it; the secret (base64url) may contain `-` and `_`.
const TOKEN_TEXT = new RegExp(
  `^${TOKEN_PREFIX}([A-Za-z0-9]{${TOKEN_ID_LENGTH}})_(${BASE64URL}{${Math.ceil((TOKEN_SECRET_BYTES * 4) / 3)},128})$`,
);

/** Splits a token as a pipeline sends it into its id and secret; undefined when it is not one. */
export function parseTokenSecret(text: string): { tokenId: string; secret: string } | undefined {
  const match = TOKEN_TEXT.exec(text.trim());
  if (!match) return undefined;
  return { tokenId: match[1]!, secret: match[2]! };
}

/** The text a pipeline sends: prefix, id and secret. */
export function formatToken(tokenId: string, secret: string): string {
  return `${TOKEN_PREFIX}${tokenId}_${secret}`;
}

/** Whether the token may act on releases of `env`. */
export function tokenAllowsEnvironment(
  identity: Pick<PipelineIdentity, 'environments'>,
  env: string,
): boolean {
  return identity.environments === 'all' || identity.environments.includes(env);
}

export const TOKEN_NAME_MAX_LENGTH = 40;
const TOKEN_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]*$/;

/** Why a token name is not acceptable, or undefined when it is (like a version: short, no spaces). */
export function checkTokenName(name: string): string | undefined {
  if (name.length === 0) return 'Name the token, e.g. `github-actions`.';
  if (name.length > TOKEN_NAME_MAX_LENGTH)
    return `A token name has at most ${TOKEN_NAME_MAX_LENGTH} characters.`;
  if (!TOKEN_NAME.test(name)) return 'Use letters, digits, `-` and `_`, starting with a letter or digit.';
  return undefined;
}

/** The environments a token is scoped to, as written for people. */
export function describeTokenEnvironments(environments: PipelineToken['environments']): string {
  return environments === 'all' ? 'all environments' : environments.join(', ');
}
