import Anthropic from '@anthropic-ai/sdk';
import type { LlmSettings } from '@drydock/core';
import {
  checkHypotheses,
  HypothesisReplySchema,
  proposeFromRules,
  rankHypotheses,
  type Evidence,
  type HypothesisProposal,
  type IncidentContext,
  type LlmFailureReason,
  type RemediationScript,
} from '@drydock/core/incidents';
import { replyFormat, SYSTEM_PROMPT, userMessage } from './hypothesis-prompt.ts';

// Hypotheses from Anthropic's Messages API when it answers well, from the rule engine when it does not: an API error,
// a timeout, a reply that is not JSON or fails the schema, or one whose every hypothesis cites what does not exist.
// The proposal says which produced it and why. Nothing here runs anything: remediations only prefill a form.

/** The Messages API client for the configured key and endpoint. It logs nothing, so the key is never in a log. */
export function createAnthropicClient(settings: Pick<LlmSettings, 'apiKey' | 'baseUrl' | 'timeoutMs'>, options: { maxRetries?: number } = {}): Anthropic {
  return new Anthropic({
    apiKey: settings.apiKey,
    baseURL: settings.baseUrl,
    timeout: settings.timeoutMs,
    maxRetries: options.maxRetries ?? 2,
    logLevel: 'off',
    webhookKey: null,
  });
}

export interface ProposeHypothesesInput {
  incident: IncidentContext;
  evidence: readonly Evidence[];
  catalog: readonly RemediationScript[];
  model: string;
  /** Absent when no API key is configured: the rule engine proposes. */
  client?: Anthropic;
  /** 4,096 unless given. */
  maxTokens?: number;
}

function fallback(input: ProposeHypothesesInput, reason: LlmFailureReason, message: string, dropped: HypothesisProposal['dropped'] = []): HypothesisProposal {
  return proposeFromRules(input.evidence, input.incident, { fallback: { reason, message: `${message}; the rule engine proposed these instead` }, dropped });
}

/** What went wrong with the API call, in words and as a reason; never the key. */
function apiFailure(err: unknown): { reason: LlmFailureReason; message: string } {
  if (err instanceof Anthropic.APIConnectionTimeoutError || err instanceof Anthropic.APIUserAbortError) return { reason: 'timeout', message: 'the Messages API gave no answer in time' };
  if (err instanceof Anthropic.APIConnectionError) return { reason: 'unreachable', message: 'the Messages API is unreachable' };
  if (err instanceof Anthropic.APIError) {
    const body = err.error as { error?: { type?: string; message?: string } } | undefined;
    const said = body?.error?.message ? `: ${body.error.type ?? 'error'}: ${body.error.message.slice(0, 300)}` : '';
    const status = err.status ?? 0;
    if (status === 529) return { reason: 'overloaded', message: `the Messages API is overloaded (529${said})` };
    if (status === 429) return { reason: 'rate_limited', message: `the Messages API is rate limiting Drydock (429${said})` };
    if (status === 401 || status === 403) return { reason: 'bad_credentials', message: `the Messages API refused DRYDOCK_ANTHROPIC_API_KEY (${status}${said})` };
    if (status >= 500) return { reason: 'unavailable', message: `the Messages API failed (${status}${said})` };
    return { reason: 'rejected', message: `the Messages API refused the request (${status}${said}); check DRYDOCK_LLM_MODEL` };
  }
  return { reason: 'malformed_reply', message: `the Messages API's answer could not be read (${(err as Error)?.message?.slice(0, 300) ?? String(err)})` };
}

export async function proposeHypotheses(input: ProposeHypothesesInput): Promise<HypothesisProposal> {
  const { client } = input;
  if (!client) return fallback(input, 'not_configured', 'no Anthropic API key is configured (DRYDOCK_ANTHROPIC_API_KEY)');

  let message: Anthropic.Message;
  try {
    message = await client.messages.create({
      model: input.model,
      max_tokens: input.maxTokens ?? 4_096,
      system: SYSTEM_PROMPT,
      messages: [{ role: 'user', content: userMessage(input.incident, input.evidence, input.catalog) }],
      output_config: { format: replyFormat() },
    });
  } catch (err) {
    const failure = apiFailure(err);
    return fallback(input, failure.reason, failure.message);
  }

  // A proxy's page instead of the API's JSON reaches here as text, not as a Message.
  if (typeof message !== 'object' || message === null || !Array.isArray(message.content)) {
    return fallback(input, 'malformed_reply', "the Messages API's answer could not be read (it is not a message; is DRYDOCK_ANTHROPIC_BASE_URL the API?)");
  }
  if (message.stop_reason === 'refusal') return fallback(input, 'refused', 'the model declined to answer');
  if (message.stop_reason === 'max_tokens') return fallback(input, 'malformed_reply', 'the reply was cut off at max_tokens before its JSON ended');
  const text = message.content
    .filter((block): block is Anthropic.TextBlock => block.type === 'text')
    .map((block) => block.text)
    .join('');
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (err) {
    return fallback(input, 'malformed_reply', `the reply was not JSON (${(err as Error).message})`);
  }
  const reply = HypothesisReplySchema.safeParse(json);
  if (!reply.success) {
    const issues = reply.error.issues.slice(0, 3).map((i) => `${i.path.join('.') || 'reply'}: ${i.message}`);
    return fallback(input, 'malformed_reply', `the reply did not match the hypothesis schema (${issues.join('; ')})`);
  }
  const { kept, dropped } = checkHypotheses(reply.data.hypotheses, input);
  if (kept.length === 0 && dropped.length > 0) {
    return fallback(input, 'nothing_valid', `every hypothesis in the reply cited evidence, scripts, parameters or hosts that do not exist (${dropped.length} dropped)`, dropped);
  }
  return { producer: 'llm', model: message.model, hypotheses: rankHypotheses(kept), dropped };
}
