import type { RequestListener } from 'node:http';
import {
  type BufferedIncomingMessage,
  defaultBodyLimit,
  HTTPModuleFunctions,
  isRawBodyError,
  isValidSlackRequest,
  type ReceiverProcessEventErrorHandlerArgs,
} from '@slack/bolt';
import type { Logger } from '../log.js';

// Bolt (5.1) trusts the shape of a signed body in two places, and a body Slack never sends turns into
// a crash or a 5xx there; it also accepts a well-signed request dated any time in the future. These
// wrap its HTTP receiver so that such a request gets a 4xx and the process keeps serving.

/**
 * Bolt reads `ssl_check` off the parsed body without checking that it is an object, inside a promise
 * nobody awaits: a body of JSON `null` leaves the request unanswered and the rejection unhandled, which
 * ends the process. The body is read here first (Bolt then reuses it), and one that is not a JSON object
 * is refused: 400, or 401 when it is not signed either, as Bolt answers unsigned requests.
 */
export function refuseMalformedRequests(
  listener: RequestListener,
  signingSecret: string,
  log: Logger,
): RequestListener {
  return (req, res) => {
    if (isDatedInTheFuture(req.headers['x-slack-request-timestamp'], Date.now())) {
      // Bolt refuses only requests older than five minutes; one from the future is as suspect.
      log.warn(
        { timestamp: String(req.headers['x-slack-request-timestamp']) },
        'slack request dated in the future',
      );
      res.writeHead(401).end();
      req.resume();
      return;
    }
    HTTPModuleFunctions.bufferIncomingMessage(req, defaultBodyLimit)
      .then(
        (buffered) => {
          if (!parsesToNonObject(buffered)) return void listener(buffered, res);
          const signed = isValidSlackRequest({
            signingSecret,
            body: buffered.rawBody.toString(),
            headers: {
              'x-slack-signature': String(req.headers['x-slack-signature']),
              'x-slack-request-timestamp': Number(req.headers['x-slack-request-timestamp']),
            },
          });
          log.warn({ signed }, 'slack request body is not an object');
          res.writeHead(signed ? 400 : 401).end();
        },
        (err: unknown) => {
          // Too large (413, Bolt's own limit), or the client went away mid-body.
          const status = isRawBodyError(err) ? err.statusCode : 400;
          log.warn({ err, status }, 'slack request body unreadable');
          res.writeHead(status).end();
        },
      )
      // Bolt's listener throws synchronously for what it cannot route; here that would be unhandled.
      .catch((err: unknown) => {
        log.error({ err }, 'slack request not handled');
        if (!res.headersSent) res.writeHead(500);
        res.end();
      });
  };
}

/** Slack's guidance: refuse a timestamp more than five minutes from now, in either direction. */
const MAX_CLOCK_SKEW_SEC = 5 * 60;

export function isDatedInTheFuture(header: string | string[] | undefined, nowMs: number): boolean {
  const timestampSec = Number(Array.isArray(header) ? header[0] : header);
  return Number.isFinite(timestampSec) && timestampSec > Math.floor(nowMs / 1000) + MAX_CLOCK_SKEW_SEC;
}

/** A JSON text that opens an object, after JSON whitespace; raw, or form-encoded (`+`, `%20`, `%7B`). */
const OPENS_OBJECT = /^[ \t\r\n]*\{/;
const OPENS_OBJECT_FORM_ENCODED = /^(?:\+|%20|%09|%0a|%0d)*(?:\{|%7b)/i;
const FORM = 'application/x-www-form-urlencoded';

/**
 * Whether the body parses, the way Bolt parses it, to something other than an object. Every click is
 * a large form body, so a body that opens an object is let through on a look at its first bytes;
 * only the rest are parsed here. An unparseable body is Bolt's to answer (401 unsigned, else 400).
 */
function parsesToNonObject(req: BufferedIncomingMessage): boolean {
  // Only the first bytes of the value are looked at: a click's body is some 26 KiB, and turning all of
  // it into a string here cost every click as much as the rest of this guard.
  const raw = req.rawBody;
  if (req.headers['content-type'] === FORM) {
    // Without a payload field, Bolt answers with the form's fields: always an object.
    const startsWithPayload = raw.subarray(0, 8).toString() === 'payload=';
    const at = startsWithPayload ? 0 : raw.indexOf('&payload=') + 1;
    if (at === 0 && !startsWithPayload) return false;
    const valueStart = at + 'payload='.length;
    if (OPENS_OBJECT_FORM_ENCODED.test(raw.subarray(valueStart, valueStart + 64).toString())) return false;
  } else if (OPENS_OBJECT.test(raw.subarray(0, 64).toString())) {
    return false;
  }
  let body: unknown;
  try {
    body = HTTPModuleFunctions.parseHTTPRequestBody(req);
  } catch {
    return false;
  }
  return typeof body !== 'object' || body === null || Array.isArray(body);
}

/**
 * Listener errors go to app.error; what escapes Bolt's processEvent is Bolt failing to read a payload
 * that lacks what every Slack request has (a user, a view). The request is at fault: 400, not 500.
 */
export function createProcessEventErrorHandler(log: Logger) {
  return async (args: ReceiverProcessEventErrorHandlerArgs): Promise<boolean> => {
    if (args.error instanceof TypeError && !args.response.headersSent) {
      log.warn({ err: args.error }, 'slack request payload malformed');
      args.response.writeHead(400).end();
      return true;
    }
    return HTTPModuleFunctions.defaultProcessEventErrorHandler(args);
  };
}
