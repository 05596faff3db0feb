import { createHash } from 'node:crypto';
import type { ServerResponse } from 'node:http';
import type { StatusPage } from '../../domain/status-board.js';
import type { Logger } from '../../log.js';

// Live /status without polling storms. Each open tab holds one server-sent-events stream; each process
// reads a workspace's board once per interval, however many tabs show it, and only when the board has
// changed renders the new board once per kind of viewer and pushes it down every stream. A hundred tabs
// cost a hundred idle sockets and one read per interval. (A Redis subscription would save the read but
// needs every commit script to publish; one read every few seconds per workspace is cheap.) Without
// script, the page falls back to a meta refresh.

export interface LiveBoardOptions {
  readPage(teamId: string): Promise<StatusPage>;
  /** The HTML that replaces the board, for a signed-in viewer or a public one. */
  renderBoard(page: StatusPage, signedIn: boolean): string;
  intervalMs: number;
  /** Streams held open per process at most; one more is answered 503. */
  maxStreams: number;
  log: Logger;
}

interface Stream {
  res: ServerResponse;
  signedIn: boolean;
}

interface Workspace {
  streams: Set<Stream>;
  timer: NodeJS.Timeout;
  fingerprint: string | undefined;
  reading: boolean;
  ticks: number;
}

/** Every this many intervals an idle stream gets a comment line, so proxies do not drop it. */
const KEEPALIVE_TICKS = 5;

function fingerprintOf(page: StatusPage): string {
  // The moment of reading changes every time; what matters is whether anything shown has.
  const { at: _at, ...board } = page.board;
  return createHash('sha256')
    .update(JSON.stringify({ board, names: [...page.names] }))
    .digest('base64url');
}

/** One SSE message: `data:` on every line, since a line break would otherwise end the field. */
function eventMessage(event: string, data: string): string {
  return `event: ${event}\n${data
    .split('\n')
    .map((line) => `data: ${line}`)
    .join('\n')}\n\n`;
}

export class LiveBoards {
  private readonly workspaces = new Map<string, Workspace>();
  private streamCount = 0;
  private closed = false;

  constructor(private readonly options: LiveBoardOptions) {}

  get openStreams(): number {
    return this.streamCount;
  }

  /** Holds `res` open as an event stream of `teamId`'s board until the visitor leaves. */
  subscribe(teamId: string, signedIn: boolean, res: ServerResponse): void {
    if (this.closed || this.streamCount >= this.options.maxStreams) {
      res.writeHead(503, { 'content-type': 'text/plain', 'retry-after': '30' }).end('too many live pages\n');
      return;
    }
    res.writeHead(200, {
      'content-type': 'text/event-stream; charset=utf-8',
      'cache-control': 'no-store',
      'x-content-type-options': 'nosniff',
      // Reconnect after a dropped stream in 10 s rather than the browser's 3 s default.
    });
    res.write('retry: 10000\n\n');
    const stream: Stream = { res, signedIn };
    const workspace = this.workspaces.get(teamId) ?? this.watch(teamId);
    workspace.streams.add(stream);
    this.streamCount++;
    res.on('close', () => {
      if (!workspace.streams.delete(stream)) return;
      this.streamCount--;
      if (workspace.streams.size === 0) {
        clearInterval(workspace.timer);
        this.workspaces.delete(teamId);
      }
    });
  }

  /** Ends every stream (shutdown: the server cannot close while they are open). */
  close(): void {
    this.closed = true;
    for (const workspace of this.workspaces.values()) {
      clearInterval(workspace.timer);
      for (const stream of workspace.streams) stream.res.end();
    }
    this.workspaces.clear();
    this.streamCount = 0;
  }

  private watch(teamId: string): Workspace {
    const workspace: Workspace = {
      streams: new Set(),
      timer: setInterval(() => void this.tick(teamId, workspace), this.options.intervalMs),
      fingerprint: undefined,
      reading: false,
      ticks: 0,
    };
    this.workspaces.set(teamId, workspace);
    // The first reading only sets the baseline: the tab was just rendered from the record.
    void this.tick(teamId, workspace);
    return workspace;
  }

  private async tick(teamId: string, workspace: Workspace): Promise<void> {
    if (workspace.reading) return;
    workspace.reading = true;
    try {
      workspace.ticks++;
      const page = await this.options.readPage(teamId);
      const fingerprint = fingerprintOf(page);
      const changed = workspace.fingerprint !== undefined && fingerprint !== workspace.fingerprint;
      workspace.fingerprint = fingerprint;
      if (changed) {
        const rendered = new Map<boolean, string>();
        for (const stream of workspace.streams) {
          let message = rendered.get(stream.signedIn);
          if (message === undefined) {
            message = eventMessage('board', this.options.renderBoard(page, stream.signedIn));
            rendered.set(stream.signedIn, message);
          }
          stream.res.write(message);
        }
      } else if (workspace.ticks % KEEPALIVE_TICKS === 0) {
        for (const stream of workspace.streams) stream.res.write(': keepalive\n\n');
      }
    } catch (err) {
      this.options.log.warn({ err, teamId }, 'live status board not read');
    } finally {
      workspace.reading = false;
    }
  }
}
