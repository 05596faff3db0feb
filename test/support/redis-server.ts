import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Redis } from 'ioredis';
import { getFreePort } from './free-port.js';

// A redis-server of the test's own on a free loopback port, for tests that take Redis away.

export interface RedisServerOptions {
  /** Append-only file with fsync every second, so a killed server restarts with its data. */
  appendOnly?: boolean;
}

export class TestRedisServer {
  private process: ChildProcess | undefined;
  /** Resolves when the current process has exited; set while one runs. */
  private exited: Promise<void> | undefined;

  private constructor(
    readonly port: number,
    private readonly dir: string,
    private readonly options: RedisServerOptions,
  ) {}

  static async start(options: RedisServerOptions = {}): Promise<TestRedisServer> {
    const server = new TestRedisServer(
      await getFreePort(),
      await mkdtemp(path.join(tmpdir(), 'shipcheck-redis-')),
      options,
    );
    // A server that never answered is still stopped and its folder removed.
    await server.run().catch(async (err: unknown) => {
      await server.stop();
      throw err;
    });
    return server;
  }

  get url(): string {
    return `redis://127.0.0.1:${this.port}`;
  }

  /** Whether the server process runs (it may still be loading its data). */
  get running(): boolean {
    return this.exited !== undefined;
  }

  /** Starts the server (again, after kill()) on the same port and data folder; no-op while it runs. */
  async run(): Promise<void> {
    if (this.running) return;
    const args = ['--port', String(this.port), '--bind', '127.0.0.1', '--dir', this.dir, '--save', ''];
    args.push('--appendonly', this.options.appendOnly ? 'yes' : 'no', '--appendfsync', 'everysec');
    const child = spawn('redis-server', args, { stdio: 'ignore' });
    this.process = child;
    // A killed process has a signalCode and no exitCode, so 'exit' is the one reliable sign it is gone.
    this.exited = new Promise((resolve) =>
      child.once('exit', () => {
        if (this.process === child) this.exited = undefined;
        resolve();
      }),
    );
    const deadline = Date.now() + 5000;
    for (;;) {
      const probe = new Redis(this.url, {
        lazyConnect: true,
        maxRetriesPerRequest: 0,
        retryStrategy: () => null,
      });
      // A refused connection is the expected answer while the server starts; it is not an error here.
      probe.on('error', () => {});
      const answered = await probe
        .connect()
        .then(() => probe.ping())
        .then(
          (reply) => reply === 'PONG',
          () => false,
        );
      probe.disconnect();
      if (answered) return;
      if (!this.running || Date.now() > deadline)
        throw new Error(`redis-server on port ${this.port} did not start`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** SIGKILL: the server stops at once, as a crash would. */
  async kill(): Promise<void> {
    const exited = this.exited;
    if (!exited) return;
    this.process?.kill('SIGKILL');
    await exited;
  }

  async stop(): Promise<void> {
    await this.kill();
    await rm(this.dir, { recursive: true, force: true });
  }
}
