import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

// The Slack app manifests ask for exactly the bot scopes the code needs, no more, and only the
// outbound client talks to the Web API.

/** Every Web API method shipcheck may call, with the bot scopes Slack requires for it. */
const METHOD_SCOPES: Record<string, string[]> = {
  'chat.postMessage': ['chat:write'],
  'chat.update': ['chat:write'],
  'chat.postEphemeral': ['chat:write'],
  'users.info': ['users:read'],
  // Direct messages: open the conversation with a person, and read it back to find a post whose
  // worker died before it could record it (exactly-once delivery).
  'conversations.open': ['im:write'],
  // The deployment log, shared as files in the release thread.
  'files.getUploadURLExternal': ['files:write'],
  'files.completeUploadExternal': ['files:write'],
  // Who is in a user group that holds a role (qa, release_manager, …).
  'usergroups.users.list': ['usergroups:read'],
  // Reading a channel's or thread's messages back for the same reason: public, private and direct.
  'conversations.history': ['channels:history', 'groups:history', 'im:history'],
  'conversations.replies': ['channels:history', 'groups:history', 'im:history'],
  // No scope: docs.slack.dev lists none for these.
  'chat.getPermalink': [],
  'views.open': [],
  'views.publish': [],
  // Bolt verifies its token with auth.test at start-up; it needs no scope.
  'auth.test': [],
};
/** Scopes that come with features rather than Web API calls. */
const FEATURE_SCOPES = { commands: 'the /deploy slash command' };

const SLACK_METHOD_PATTERN =
  /['"`]((?:chat|views|users|usergroups|conversations|files|auth|apps|reactions|pins)\.[a-zA-Z.]+)['"`]/g;

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const full = path.join(dir, name);
    return statSync(full).isDirectory() ? sourceFiles(full) : full.endsWith('.ts') ? [full] : [];
  });
}

const sources = sourceFiles(path.resolve('src')).map((file) => ({ file, text: readFileSync(file, 'utf8') }));
const calledMethods = [
  ...new Set(
    sources.flatMap(({ text }) => [...text.matchAll(SLACK_METHOD_PATTERN)].map((match) => match[1]!)),
  ),
];

interface Manifest {
  display_information: { name: string };
  features: {
    bot_user: { display_name: string };
    slash_commands: { command: string; url?: string; description: string }[];
    app_home?: { home_tab_enabled?: boolean; messages_tab_enabled?: boolean };
  };
  oauth_config: { scopes: { bot: string[] } };
  settings: {
    interactivity: { is_enabled: boolean; request_url?: string };
    socket_mode_enabled: boolean;
    event_subscriptions?: { request_url?: string; bot_events?: string[] };
  };
}

const manifests = Object.fromEntries(
  ['http', 'socket-mode'].map((name) => [
    name,
    parse(readFileSync(path.resolve('manifests', `${name}.yaml`), 'utf8')) as Manifest,
  ]),
);

describe('Slack app manifests', () => {
  it('finds the Web API methods the code calls', () => {
    expect(calledMethods).toContain('chat.postMessage');
    expect(calledMethods).toContain('chat.update');
    for (const method of calledMethods) {
      expect(METHOD_SCOPES, `${method} is called: add it with its scopes to METHOD_SCOPES`).toHaveProperty([
        method,
      ]);
    }
  });

  it.each(Object.keys(manifests))('%s: asks for exactly the bot scopes the code uses', (name) => {
    const needed = new Set([
      ...calledMethods.flatMap((method) => METHOD_SCOPES[method] ?? []),
      ...Object.keys(FEATURE_SCOPES),
    ]);
    expect(new Set(manifests[name]!.oauth_config.scopes.bot)).toEqual(needed);
  });

  it("lists in the README exactly the manifests' bot scopes", () => {
    const readme = readFileSync(path.resolve('README.md'), 'utf8');
    const start = readme.indexOf('create the app with exactly the scopes it uses:');
    expect(start).toBeGreaterThan(-1);
    const paragraph = readme.slice(start, readme.indexOf('\n\n', start));
    // Every code span in the paragraph that looks like a scope (`manifests/` does not).
    const listed = [...paragraph.matchAll(/`([a-z_.]+(?::[a-z_.]+)?)`/g)].map((match) => match[1]!);
    for (const manifest of Object.values(manifests)) {
      expect([...listed].sort()).toEqual([...manifest.oauth_config.scopes.bot].sort());
    }
  });

  it.each(Object.keys(manifests))('%s: has the /deploy command, interactivity and a bot user', (name) => {
    const manifest = manifests[name]!;
    expect(manifest.display_information.name.length).toBeLessThanOrEqual(35);
    expect(manifest.features.bot_user.display_name).toBeTruthy();
    expect(manifest.features.slash_commands.map((command) => command.command)).toEqual(['/deploy']);
    expect(manifest.settings.interactivity.is_enabled).toBe(true);
    // Reminders and escalations arrive as direct messages from the app, shown in its Messages tab.
    expect(manifest.features.app_home?.messages_tab_enabled).toBe(true);
  });

  it('subscribes to exactly the events the code listens to', () => {
    const listened = [
      ...new Set(
        sources.flatMap(({ text }) =>
          [...text.matchAll(/app\.event\(['"]([a-z_]+)['"]/g)].map((match) => match[1]!),
        ),
      ),
    ];
    for (const manifest of Object.values(manifests)) {
      expect(manifest.settings.event_subscriptions?.bot_events ?? []).toEqual(listened);
    }
  });

  it('points HTTP mode at /slack/events and turns Socket Mode on only in its own manifest', () => {
    const http = manifests.http!;
    expect(http.settings.socket_mode_enabled).toBe(false);
    expect(http.settings.interactivity.request_url).toMatch(/^https:\/\/.+\/slack\/events$/);
    expect(http.features.slash_commands[0]!.url).toMatch(/^https:\/\/.+\/slack\/events$/);
    const socket = manifests['socket-mode']!;
    expect(socket.settings.socket_mode_enabled).toBe(true);
    expect(socket.settings.interactivity.request_url).toBeUndefined();
    expect(socket.features.slash_commands[0]!.url).toBeUndefined();
  });
});

describe('one outbound client', () => {
  it('is the only code that calls the Slack Web API', () => {
    const outbound = path.resolve('src/slack-api/outbound.ts');
    // The HTTP call itself, which only the outbound client constructs.
    const webApi = path.resolve('src/slack-api/web-api.ts');
    // The metrics server's client, which speaks Prometheus's API, not Slack's.
    const prometheus = path.resolve('src/metrics-source/prometheus.ts');
    const direct = sources.filter(
      ({ file, text }) =>
        file !== outbound &&
        file !== webApi &&
        file !== prometheus &&
        /new WebClient\(|new SlackWebApi\(|from 'undici'|\.apiCall\(|\bclient\.(chat|views|users|conversations|files)\./.test(
          text,
        ),
    );
    expect(direct.map(({ file }) => path.relative(process.cwd(), file))).toEqual([]);
    const methodsOutsideOutbound = sources.filter(
      ({ file, text }) => file !== outbound && [...text.matchAll(SLACK_METHOD_PATTERN)].length > 0,
    );
    expect(methodsOutsideOutbound.map(({ file }) => path.relative(process.cwd(), file))).toEqual([]);
  });
});
