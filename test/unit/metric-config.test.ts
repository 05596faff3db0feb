import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config/env.js';

// PROMETHEUS_* in the environment: parsed once, every problem listed together, no secret echoed.

const BASE = { SLACK_BOT_TOKEN: 'xoxb-test', SLACK_SIGNING_SECRET: 'secret' };

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig({ ...BASE, ...env });
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('Prometheus configuration', () => {
  it('is off without PROMETHEUS_URL', () => {
    expect(loadConfig(BASE).prometheus).toBeUndefined();
  });

  it('reads the server, its credentials and its timing', () => {
    expect(
      loadConfig({
        ...BASE,
        PROMETHEUS_URL: 'https://metrics.example.com/prometheus',
        PROMETHEUS_BEARER_TOKEN: 'tok-123',
        PROMETHEUS_CA_FILE: '/etc/ssl/private-ca.pem',
        PROMETHEUS_TIMEOUT_MS: '2500',
        PROMETHEUS_RETRIES: '0',
      }).prometheus,
    ).toEqual({
      url: 'https://metrics.example.com/prometheus',
      bearerToken: 'tok-123',
      basicAuth: undefined,
      caFile: '/etc/ssl/private-ca.pem',
      insecureSkipVerify: false,
      timeoutMs: 2500,
      retries: 0,
    });
    expect(
      loadConfig({
        ...BASE,
        PROMETHEUS_URL: 'http://prometheus:9090',
        PROMETHEUS_USERNAME: 'shipcheck',
        PROMETHEUS_PASSWORD: 'pw',
        PROMETHEUS_INSECURE_SKIP_VERIFY: 'on',
      }).prometheus,
    ).toMatchObject({
      basicAuth: { username: 'shipcheck', password: 'pw' },
      insecureSkipVerify: true,
      timeoutMs: 5000,
      retries: 2,
    });
  });

  it('lists every problem at once and never the secrets', () => {
    const problems = problemsOf({
      PROMETHEUS_URL: 'prometheus:9090',
      PROMETHEUS_BEARER_TOKEN: 'tok-secret-123',
      PROMETHEUS_USERNAME: 'shipcheck',
      PROMETHEUS_CA_FILE: 'ca.pem',
      PROMETHEUS_TIMEOUT_MS: 'soon',
    });
    expect(problems).toEqual([
      'PROMETHEUS_URL: must be an http(s) URL such as http://prometheus:9090',
      'PROMETHEUS_CA_FILE: must be an absolute path to a PEM file',
      'PROMETHEUS_TIMEOUT_MS: must be a number of milliseconds',
      'PROMETHEUS_BEARER_TOKEN: set either a bearer token or PROMETHEUS_USERNAME, not both',
      'PROMETHEUS_PASSWORD: basic auth needs both PROMETHEUS_USERNAME and PROMETHEUS_PASSWORD',
    ]);
    expect(problems.join('\n')).not.toContain('tok-secret-123');
  });
});
