import { randomBytes } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type ServerResponse } from 'node:http';
import type { AddressInfo, Socket } from 'node:net';

// No LLM can run here. This double speaks Anthropic's Messages API (`POST /v1/messages`) as documented: it checks
// the API key (in `x-api-key`, as API version 2023-06-01 documents it, or as `Authorization: Bearer`, which
// @anthropic-ai/sdk 1.x sends with its API version 2026-10-21), that `anthropic-version` is present, and the request body (model, max_tokens, messages alternating from a user turn,
// a system prompt, an `output_config.format` JSON schema), and answers with the replies the test recorded: a Message
// (`type: message`, content blocks, `stop_reason`, `usage`) or an error (`{"type":"error","error":{type,message},
// "request_id"}` with its status: 400, 401, 429, 500, 529), malformed bodies, or no answer at all. The real
// `@anthropic-ai/sdk`, its `baseURL` pointed here, talks to it unchanged.


export type RecordedReply =
  /** A message whose one text block is `text`. */
  | { text: string; stopReason?: 'end_turn' | 'max_tokens' | 'refusal' | 'stop_sequence' }
  /** A message whose text is this value as JSON. */
  | { json: unknown }
  /** An API error with its documented type. */
  | { error: { status: number; type: string; message: string }; headers?: Record<string, string> }
  /** Whatever bytes the test wants, as they are. */
  | { raw: { status: number; body: string; contentType?: string } }
  /** Accepts the request and never answers. */
  | 'hang';

export interface MessagesRequest {
  headers: IncomingHttpHeaders;
  /** Whether the key was the double's (the key itself is not kept), and which header carried it. */
  keyAccepted: boolean;
  keyHeader: 'x-api-key' | 'authorization' | 'none';
  body: {
    model: string;
    max_tokens: number;
    system?: string | { type: 'text'; text: string }[];
    messages: { role: 'user' | 'assistant'; content: string | { type: string; text?: string }[] }[];
    output_config?: { format?: { type: string; schema: Record<string, unknown> } };
    [key: string]: unknown;
  };
}

export interface AnthropicDouble {
  /** The base URL to give the SDK (`baseURL`). */
  url: string;
  apiKey: string;
  /** Requests that reached the double, in order. */
  requests: MessagesRequest[];
  /** Queues replies for the next requests, in order. With none queued, a request gets a 500 that says so. */
  reply(...replies: RecordedReply[]): void;
  close(): Promise<void>;
}

const requestId = () => `req_${randomBytes(12).toString('hex')}`;

function sendError(res: ServerResponse, status: number, type: string, message: string, headers: Record<string, string> = {}): void {
  const id = requestId();
  res.writeHead(status, { 'content-type': 'application/json', 'request-id': id, ...headers });
  res.end(JSON.stringify({ type: 'error', error: { type, message }, request_id: id }));
}

/** What the Messages API refuses with invalid_request_error, in its words where the documents give them. */
function invalidRequest(body: unknown): string | undefined {
  if (!body || typeof body !== 'object') return 'request body must be a JSON object';
  const b = body as Record<string, unknown>;
  if (typeof b['model'] !== 'string' || b['model'] === '') return 'model: Field required';
  if (!Number.isInteger(b['max_tokens']) || (b['max_tokens'] as number) < 1) return 'max_tokens: Field required';
  const messages = b['messages'];
  if (!Array.isArray(messages) || messages.length === 0) return 'messages: at least one message is required';
  for (const [i, m] of messages.entries()) {
    const message = m as { role?: unknown; content?: unknown };
    if (message.role !== 'user' && message.role !== 'assistant') return `messages.${i}.role: Input should be 'user' or 'assistant'`;
    if (i === 0 && message.role !== 'user') return 'messages: first message must use the "user" role';
    if (i > 0 && message.role === (messages[i - 1] as { role: unknown }).role) return 'messages: roles must alternate between "user" and "assistant"';
    const content = message.content;
    const blocks = typeof content === 'string' ? [{ type: 'text', text: content }] : content;
    if (!Array.isArray(blocks) || blocks.length === 0) return `messages.${i}.content: Field required`;
    for (const block of blocks as { type?: unknown; text?: unknown }[]) if (block.type === 'text' && typeof block.text !== 'string') return `messages.${i}.content: text blocks need text`;
  }
  const system = b['system'];
  if (system !== undefined && typeof system !== 'string' && !(Array.isArray(system) && system.every((s: { type?: unknown; text?: unknown }) => s.type === 'text' && typeof s.text === 'string'))) {
    return 'system: Input should be a valid string or a list of text blocks';
  }
  const format = (b['output_config'] as { format?: { type?: unknown; schema?: unknown } } | undefined)?.format;
  if (format !== undefined && format !== null) {
    if (format.type !== 'json_schema') return "output_config.format.type: Input should be 'json_schema'";
    const schema = format.schema as { type?: unknown; additionalProperties?: unknown } | undefined;
    if (!schema || schema.type !== 'object') return 'output_config.format.schema: the schema must describe an object';
    if (schema.additionalProperties !== false) return 'output_config.format.schema: objects must set additionalProperties to false';
  }
  return undefined;
}

export async function startAnthropicDouble(options: { apiKey?: string } = {}): Promise<AnthropicDouble> {
  const apiKey = options.apiKey ?? `sk-ant-test-${randomBytes(12).toString('hex')}`;
  const requests: MessagesRequest[] = [];
  const queue: RecordedReply[] = [];
  const sockets = new Set<Socket>();

  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const url = new URL(req.url ?? '/', 'http://double.invalid');
      if (req.method !== 'POST' || url.pathname !== '/v1/messages') return sendError(res, 404, 'not_found_error', `Not found: ${req.method} ${url.pathname}`);
      if (!req.headers['anthropic-version']) return sendError(res, 400, 'invalid_request_error', 'anthropic-version: header is required');
      const bearer = /^Bearer (.+)$/.exec(req.headers.authorization ?? '')?.[1];
      const given = typeof req.headers['x-api-key'] === 'string' ? req.headers['x-api-key'] : bearer;
      const keyHeader = typeof req.headers['x-api-key'] === 'string' ? 'x-api-key' : bearer !== undefined ? 'authorization' : 'none';
      const keyAccepted = given === apiKey;
      let body: unknown;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString('utf8'));
      } catch {
        return sendError(res, 400, 'invalid_request_error', 'There was an issue with your request body: it is not valid JSON');
      }
      // Neither credential header is kept: the recorded requests never hold a key.
      const headers = { ...req.headers };
      delete headers['x-api-key'];
      delete headers.authorization;
      requests.push({ headers, keyAccepted, keyHeader, body: body as MessagesRequest['body'] });
      if (!keyAccepted) return sendError(res, 401, 'authentication_error', 'invalid x-api-key');
      const problem = invalidRequest(body);
      if (problem) return sendError(res, 400, 'invalid_request_error', problem);

      const reply = queue.shift();
      if (reply === undefined) return sendError(res, 500, 'api_error', 'the double has no recorded reply for this request');
      if (reply === 'hang') return;
      if ('error' in reply) return sendError(res, reply.error.status, reply.error.type, reply.error.message, reply.headers);
      if ('raw' in reply) {
        res.writeHead(reply.raw.status, { 'content-type': reply.raw.contentType ?? 'application/json', 'request-id': requestId() });
        res.end(reply.raw.body);
        return;
      }
      const text = 'json' in reply ? JSON.stringify(reply.json) : reply.text;
      const stopReason = 'json' in reply ? 'end_turn' : (reply.stopReason ?? 'end_turn');
      const model = (body as { model: string }).model;
      res.writeHead(200, { 'content-type': 'application/json', 'request-id': requestId() });
      res.end(
        JSON.stringify({
          id: `msg_${randomBytes(12).toString('hex')}`,
          type: 'message',
          role: 'assistant',
          model,
          content: [{ type: 'text', text }],
          stop_reason: stopReason,
          stop_sequence: null,
          usage: { input_tokens: Math.ceil(Buffer.concat(chunks).length / 4), output_tokens: Math.ceil(text.length / 4) },
        }),
      );
    });
  });
  server.on('connection', (socket) => {
    sockets.add(socket);
    socket.on('close', () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    apiKey,
    requests,
    reply: (...replies) => void queue.push(...replies),
    close: () =>
      new Promise((resolve) => {
        for (const socket of sockets) socket.destroy();
        server.close(() => resolve());
      }),
  };
}
