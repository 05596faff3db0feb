import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createBoltLogger, createLogger } from '../../src/log.js';

const BOT_TOKEN = 'xoxb-1234567890-abcdefghijkl';
const SIGNING_SECRET = 'f3c9a1b2c3d4e5f60718293a4b5c6d7e';

function capture() {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });
  const log = createLogger('debug', destination, [BOT_TOKEN, SIGNING_SECRET]);
  return { log, text: () => lines.join('') };
}

describe('log redaction', () => {
  it('never writes a token or the signing secret, wherever it appears', () => {
    const { log, text } = capture();
    log.info({ token: BOT_TOKEN }, 'a token field');
    log.info({ request: { headers: { authorization: `Bearer ${BOT_TOKEN}` } } }, 'a header');
    log.info(`a message quoting ${BOT_TOKEN} and ${SIGNING_SECRET}`);
    log.info(
      { deep: { list: [{ note: `user pasted xoxp-999-888-777-abc and ${SIGNING_SECRET}` }] } },
      'deep',
    );
    log.error({ err: new Error(`call failed with ${BOT_TOKEN}`) }, 'an error');
    createBoltLogger(log).warn('bolt says', { token: BOT_TOKEN }, `xapp-1-A111-222-zzz`);

    const written = text();
    expect(written).not.toContain(BOT_TOKEN);
    expect(written).not.toContain(SIGNING_SECRET);
    expect(written).not.toContain('xoxp-999');
    expect(written).not.toContain('xapp-1-A111');
    expect(written.match(/\[redacted\]/g)!.length).toBeGreaterThanOrEqual(8);
  });

  it('keeps everything else as it was', () => {
    const { log, text } = capture();
    log.info({ releaseId: 'r7', itemId: 'backups-verified', count: 3 }, 'item ticked');
    expect(JSON.parse(text())).toMatchObject({
      releaseId: 'r7',
      itemId: 'backups-verified',
      count: 3,
      msg: 'item ticked',
    });
  });

  it('keeps errors readable: type, message and stack', () => {
    const { log, text } = capture();
    log.error({ err: new TypeError('bad input') }, 'failed');
    expect(JSON.parse(text()).err).toMatchObject({
      type: 'TypeError',
      message: 'bad input',
      stack: expect.stringContaining('TypeError'),
    });
  });
});
