import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer as createHttpServer, type Server } from 'node:http';
import { connect, createServer as createTcpServer, type Socket, type Server as TcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Agent, fetch } from 'undici';
import { getFreePort } from './free-port.js';

// A real Prometheus of the test's own (Debian's `prometheus` binary) on a free loopback port, with a
// temporary config and data folder, scraping every second an exporter the test controls. And a TCP
// proxy in front of it that the test can slow down.

/** One series: a gauge set by the test, or a counter that grows by `perSecond` on its own. */
interface Series {
  name: string;
  labels: Record<string, string>;
  type: 'gauge' | 'counter';
  value: number;
  perSecond: number;
  at: number;
}

const seriesKey = (name: string, labels: Record<string, string>) =>
  `${name}${JSON.stringify(Object.entries(labels).sort())}`;

const escapeLabel = (value: string) =>
  value.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');

/** An HTTP server answering /metrics in Prometheus's text format with the series the test sets. */
export class TestExporter {
  private readonly series = new Map<string, Series>();

  private constructor(
    private readonly server: Server,
    readonly port: number,
  ) {}

  static async start(): Promise<TestExporter> {
    let exporter: TestExporter | undefined;
    const server = createHttpServer((req, res) => {
      if (req.url !== '/metrics') {
        res.writeHead(404).end();
        return;
      }
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4' });
      res.end(exporter!.render(Date.now()));
    });
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        if (address === null || typeof address === 'string') reject(new Error('no port'));
        else resolve(address.port);
      });
    });
    exporter = new TestExporter(server, port);
    return exporter;
  }

  get target(): string {
    return `127.0.0.1:${this.port}`;
  }

  setGauge(name: string, labels: Record<string, string>, value: number): void {
    this.series.set(seriesKey(name, labels), {
      name,
      labels,
      type: 'gauge',
      value,
      perSecond: 0,
      at: Date.now(),
    });
  }

  /** A counter that grows by `perSecond` from now on (its value so far is kept). */
  setCounterRate(name: string, labels: Record<string, string>, perSecond: number): void {
    const key = seriesKey(name, labels);
    const now = Date.now();
    const existing = this.series.get(key);
    const value = existing ? existing.value + (existing.perSecond * (now - existing.at)) / 1000 : 0;
    this.series.set(key, { name, labels, type: 'counter', value, perSecond, at: now });
  }

  remove(name: string): void {
    for (const [key, series] of this.series) if (series.name === name) this.series.delete(key);
  }

  private render(now: number): string {
    const lines: string[] = [];
    const typed = new Set<string>();
    for (const series of this.series.values()) {
      if (!typed.has(series.name)) {
        lines.push(`# TYPE ${series.name} ${series.type}`);
        typed.add(series.name);
      }
      const value =
        series.type === 'counter'
          ? series.value + (series.perSecond * (now - series.at)) / 1000
          : series.value;
      const labels = Object.entries(series.labels)
        .map(([name, labelValue]) => `${name}="${escapeLabel(labelValue)}"`)
        .join(',');
      lines.push(`${series.name}${labels ? `{${labels}}` : ''} ${value}`);
    }
    return `${lines.join('\n')}\n`;
  }

  async stop(): Promise<void> {
    this.server.closeAllConnections();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}

export class TestPrometheus {
  private constructor(
    private readonly child: ChildProcess,
    private readonly exited: Promise<void>,
    private readonly dir: string,
    readonly port: number,
    /** With TLS: the CA that signed the server's certificate, trusted by the test's own requests. */
    private readonly dispatcher: Agent | undefined,
  ) {}

  /**
   * Starts Prometheus scraping `targets` every second; resolves once it is ready. `basicAuth` makes
   * its API ask for that user (`hash`: the password's bcrypt hash, as Prometheus's web config takes it);
   * `tls` makes it serve HTTPS with that certificate and key (PEM files).
   */
  static async start(
    targets: string[],
    options: {
      basicAuth?: { username: string; password: string; hash: string };
      tls?: { certFile: string; keyFile: string; caFile: string };
    } = {},
  ): Promise<TestPrometheus> {
    const dir = await mkdtemp(path.join(tmpdir(), 'shipcheck-prometheus-'));
    const config = [
      'global:',
      '  scrape_interval: 1s',
      '  evaluation_interval: 1s',
      'scrape_configs:',
      '  - job_name: app',
      '    static_configs:',
      `      - targets: [${targets.map((target) => `'${target}'`).join(', ')}]`,
      '',
    ].join('\n');
    await writeFile(path.join(dir, 'prometheus.yml'), config);
    const flags: string[] = [];
    const headers: Record<string, string> = {};
    const web: string[] = [];
    if (options.basicAuth) {
      const { username, password, hash } = options.basicAuth;
      web.push('basic_auth_users:', `  ${username}: '${hash}'`);
      headers.authorization = `Basic ${Buffer.from(`${username}:${password}`).toString('base64')}`;
    }
    if (options.tls) {
      web.push(
        'tls_server_config:',
        `  cert_file: ${options.tls.certFile}`,
        `  key_file: ${options.tls.keyFile}`,
      );
    }
    if (web.length > 0) {
      await writeFile(path.join(dir, 'web.yml'), `${web.join('\n')}\n`);
      flags.push(`--web.config.file=${path.join(dir, 'web.yml')}`);
    }
    const dispatcher = options.tls
      ? new Agent({ connect: { ca: await readFile(options.tls.caFile) } })
      : undefined;
    const port = await getFreePort();
    const child = spawn(
      'prometheus',
      [
        `--config.file=${path.join(dir, 'prometheus.yml')}`,
        `--storage.tsdb.path=${path.join(dir, 'data')}`,
        `--web.listen-address=127.0.0.1:${port}`,
        '--log.level=warn',
        ...flags,
      ],
      { stdio: ['ignore', 'ignore', 'pipe'] },
    );
    let stderr = '';
    child.stderr?.on('data', (chunk: Buffer) => {
      stderr = (stderr + chunk.toString()).slice(-4000);
    });
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    const prometheus = new TestPrometheus(child, exited, dir, port, dispatcher);
    const deadline = Date.now() + 20_000;
    for (;;) {
      const ready = await fetch(`${prometheus.url}/-/ready`, { headers, dispatcher }).then(
        (response) => response.ok,
        () => false,
      );
      if (ready) return prometheus;
      if (child.exitCode !== null || Date.now() > deadline) {
        await prometheus.stop();
        throw new Error(`prometheus did not start: ${stderr}`);
      }
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }

  get url(): string {
    return `${this.dispatcher ? 'https' : 'http'}://127.0.0.1:${this.port}`;
  }

  /** The value of an instant query now, straight from the API (for waiting, not for asserting). */
  async valueOf(query: string): Promise<number | undefined> {
    const response = await fetch(`${this.url}/api/v1/query?${new URLSearchParams({ query })}`, {
      dispatcher: this.dispatcher,
    });
    const body = (await response.json()) as { data?: { result?: { value: [number, string] }[] } };
    const sample = body.data?.result?.[0]?.value?.[1];
    return sample === undefined ? undefined : Number(sample);
  }

  /** Waits until the query's value meets `accept` (the exporter's change was scraped). */
  async waitFor(query: string, accept: (value: number | undefined) => boolean, timeoutMs = 15_000) {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const value = await this.valueOf(query);
      if (accept(value)) return value;
      if (Date.now() > deadline) throw new Error(`${query} stayed at ${value}`);
      await new Promise((resolve) => setTimeout(resolve, 200));
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      this.child.kill('SIGTERM');
      const killed = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await this.exited;
      clearTimeout(killed);
    }
    await this.dispatcher?.close();
    await rm(this.dir, { recursive: true, force: true });
  }
}

/** A TCP proxy whose answers the test can hold back by `delayMs`. */
export class SlowProxy {
  delayMs = 0;
  private readonly sockets = new Set<Socket>();

  private constructor(
    private readonly server: TcpServer,
    readonly port: number,
  ) {}

  static async start(targetPort: number): Promise<SlowProxy> {
    let proxy: SlowProxy | undefined;
    const server = createTcpServer((client) => {
      const upstream = connect(targetPort, '127.0.0.1');
      proxy!.sockets.add(client);
      proxy!.sockets.add(upstream);
      client.on('data', (chunk) => upstream.write(chunk));
      upstream.on('data', (chunk) => {
        const delay = proxy!.delayMs;
        if (delay === 0) client.write(chunk);
        else setTimeout(() => !client.destroyed && client.write(chunk), delay).unref();
      });
      const close = () => {
        client.destroy();
        upstream.destroy();
        proxy!.sockets.delete(client);
        proxy!.sockets.delete(upstream);
      };
      client.on('close', close);
      upstream.on('close', close);
      client.on('error', close);
      upstream.on('error', close);
    });
    const port = await new Promise<number>((resolve, reject) => {
      server.once('error', reject);
      server.listen(0, '127.0.0.1', () => {
        const address = server.address();
        if (address === null || typeof address === 'string') reject(new Error('no port'));
        else resolve(address.port);
      });
    });
    proxy = new SlowProxy(server, port);
    return proxy;
  }

  get url(): string {
    return `http://127.0.0.1:${this.port}`;
  }

  async stop(): Promise<void> {
    for (const socket of this.sockets) socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
