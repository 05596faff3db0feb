import { randomUUID } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { type WebSocket, WebSocketServer } from 'ws';
import type { SlackStandIn } from './slack-stand-in.js';

// Slack's side of a Socket Mode connection: apps.connections.open hands out this server's URL; it
// greets the client with "hello", sends envelopes, and collects the client's acknowledgements.

export interface SocketAck {
  envelope_id: string;
  payload?: Record<string, unknown>;
}

export class SocketModeStandIn {
  readonly acks: SocketAck[] = [];
  private socket: WebSocket | undefined;

  private constructor(private readonly server: WebSocketServer) {
    server.on('connection', (socket) => {
      this.socket = socket;
      socket.on('message', (data) => this.acks.push(JSON.parse(String(data)) as SocketAck));
      socket.send(JSON.stringify({ type: 'hello', num_connections: 1, debug_info: { host: 'stand-in' } }));
    });
  }

  static async start(api: SlackStandIn): Promise<SocketModeStandIn> {
    const server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise<void>((resolve) => server.once('listening', () => resolve()));
    const standIn = new SocketModeStandIn(server);
    const { port } = server.address() as AddressInfo;
    api.handle('apps.connections.open', () => ({ ok: true, url: `ws://127.0.0.1:${port}/link` }));
    return standIn;
  }

  get connected(): boolean {
    return this.socket !== undefined;
  }

  /** Sends an envelope as Slack does (type "slash_commands", "interactive", …) and returns its id. */
  send(type: string, payload: object): string {
    if (!this.socket) throw new Error('no Socket Mode client is connected');
    const envelopeId = randomUUID();
    this.socket.send(
      JSON.stringify({ envelope_id: envelopeId, type, payload, accepts_response_payload: true }),
    );
    return envelopeId;
  }

  async stop(): Promise<void> {
    for (const client of this.server.clients) client.terminate();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
