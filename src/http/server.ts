import http, { type IncomingMessage, type RequestListener, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Logger } from '../log.js';

// shipcheck's own HTTP server. Slack's requests go to Bolt's receiver; health, readiness and metrics
// are served here. Owning the server lets shutdown stop new connections while the ones in flight
// finish, and shows when each response to Slack has gone out.

export const SLACK_EVENTS_PATH = '/slack/events';

export type RouteHandler = (req: IncomingMessage, res: ServerResponse) => Promise<void> | void;

/**
 * A part of the site that owns every path under `prefix` and every method (the pipeline API, the
 * status pages). It answers whatever it is given, 404 and 405 included.
 */
export interface Mount {
  prefix: string;
  handle: RouteHandler;
}

export interface SlackEndpoint {
  listener: RequestListener;
  /** Called once the response to Slack has gone out: with processBeforeResponse off, that is the ack. */
  onResponseSent(req: IncomingMessage): void;
}

export class HttpServer {
  private readonly server: http.Server;

  constructor(
    private readonly routes: Readonly<Record<string, RouteHandler>>,
    private readonly log: Logger,
    private readonly slack?: SlackEndpoint,
    private readonly mounts: readonly Mount[] = [],
  ) {
    this.server = http.createServer((req, res) => this.handle(req, res));
  }

  get port(): number {
    return (this.server.address() as AddressInfo).port;
  }

  listen(port: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(port, () => {
        this.server.off('error', reject);
        resolve();
      });
    });
  }

  /** Stops accepting connections and waits for the open ones to finish, up to `timeoutMs`. */
  close(timeoutMs: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        this.server.closeAllConnections();
        resolve();
      }, timeoutMs);
      this.server.close(() => {
        clearTimeout(timer);
        resolve();
      });
      // Keep-alive connections with no request in flight would otherwise hold the server open.
      this.server.closeIdleConnections();
    });
  }

  private handle(req: IncomingMessage, res: ServerResponse): void {
    const path = (req.url ?? '/').split('?')[0]!;
    if (this.slack && path === SLACK_EVENTS_PATH) {
      // Bolt's listener throws for any method it does not route: uncaught here, that would end the process.
      if (req.method !== 'POST') {
        res.writeHead(405, { allow: 'POST', 'content-type': 'text/plain' }).end('method not allowed\n');
        return;
      }
      const slack = this.slack;
      res.once('finish', () => slack.onResponseSent(req));
      slack.listener(req, res);
      return;
    }
    const mount = this.mounts.find(({ prefix }) => path === prefix || path.startsWith(`${prefix}/`));
    if (mount) {
      this.serve(mount.handle, req, res, path);
      return;
    }
    const route = this.routes[path];
    if (!route || (req.method !== 'GET' && req.method !== 'HEAD')) {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found\n');
      return;
    }
    this.serve(route, req, res, path);
  }

  private serve(route: RouteHandler, req: IncomingMessage, res: ServerResponse, path: string): void {
    Promise.resolve()
      .then(() => route(req, res))
      .catch((err: unknown) => {
        this.log.error({ err, path }, 'route failed');
        if (!res.headersSent) res.writeHead(500, { 'content-type': 'text/plain' });
        res.end('error\n');
      });
  }
}
