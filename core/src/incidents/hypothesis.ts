import { z } from 'zod';
import { coerceFormValues, paramsSchema, type Parameter } from '../manifest.ts';
import type { Evidence, IncidentContext } from './evidence.ts';

// A hypothesis says what may have caused an incident, how sure it is, which evidence it rests on, and what a person
// could run next. Suggestions only ever prefill a run form that a person submits: nothing here starts anything.

const Name = z.string().min(1).max(200);

export const SuggestedParameterSchema = z.strictObject({
  name: z.string().min(1).max(64),
  /** As a run form's field takes it: text, a number, `true`/`false`, hosts separated by commas. */
  value: z.string().max(4_000),
});

export const SuggestedRunSchema = z.strictObject({
  /** What to look for or do, in a sentence. */
  description: z.string().min(1).max(1_000),
  /** The catalog script that does it, when one does. */
  scriptId: Name.optional(),
  parameters: z.array(SuggestedParameterSchema).max(50).optional(),
  /** Where to run it; only hosts the incident or its evidence names are kept. */
  hosts: z.array(z.string().min(1).max(253)).max(50).optional(),
});
export type SuggestedRun = z.infer<typeof SuggestedRunSchema>;

export const HypothesisSchema = z.strictObject({
  title: z.string().min(1).max(300),
  /** 0 (a wild guess) to 1 (certain). */
  confidence: z.number().min(0).max(1),
  rationale: z.string().min(1).max(4_000),
  /** The evidence it rests on, by id: at least one. */
  evidenceIds: z.array(z.string().min(1).max(80)).min(1).max(50),
  checks: z.array(SuggestedRunSchema).max(10),
  /** Each names a catalog script: a person may open its run form, prefilled. */
  remediations: z.array(SuggestedRunSchema.extend({ scriptId: Name })).max(10),
});
export type Hypothesis = z.infer<typeof HypothesisSchema>;

/** What the LLM is asked to reply with, and checked against. */
export const HypothesisReplySchema = z.strictObject({
  hypotheses: z.array(HypothesisSchema).max(10),
});
export type HypothesisReply = z.infer<typeof HypothesisReplySchema>;

/** A catalog script as hypotheses may name it: its id, what it does, and the parameters its manifest declares. */
export interface RemediationScript {
  scriptId: string;
  name: string;
  description?: string;
  parameters: readonly Parameter[];
}

export const RankedHypothesisSchema = HypothesisSchema.extend({ rank: z.number().int().min(1) });
export type RankedHypothesis = z.infer<typeof RankedHypothesisSchema>;

export const DroppedHypothesisSchema = z.strictObject({ title: z.string(), reasons: z.array(z.string()).min(1) });
export type DroppedHypothesis = z.infer<typeof DroppedHypothesisSchema>;

export const LLM_FAILURE_REASONS = [
  /** No API key is configured: the rule engine is the only producer. */
  'not_configured',
  'unreachable',
  'timeout',
  /** 529: the API is overloaded. */
  'overloaded',
  'rate_limited',
  /** 5xx other than 529. */
  'unavailable',
  /** 401 or 403: the key is wrong or may not use the model. */
  'bad_credentials',
  /** 400, 404, 413: the request was refused (an unknown model, a model without structured outputs). */
  'rejected',
  'refused',
  /** The reply stopped at max_tokens, was not JSON, or failed the schema. */
  'malformed_reply',
  /** Every hypothesis the model gave cited evidence, scripts, parameters or hosts that do not exist. */
  'nothing_valid',
] as const;
export type LlmFailureReason = (typeof LLM_FAILURE_REASONS)[number];

/** What produced an incident's hypotheses, and the hypotheses: what the incident page shows and the workflow stores. */
export const HypothesisProposalSchema = z.strictObject({
  producer: z.enum(['llm', 'rules']),
  /** The model, when the LLM produced them. */
  model: z.string().optional(),
  /** Why the rule engine produced them instead of the LLM. */
  fallback: z.strictObject({ reason: z.enum(LLM_FAILURE_REASONS), message: z.string() }).optional(),
  hypotheses: z.array(RankedHypothesisSchema),
  /** The LLM's hypotheses that were dropped, and why. */
  dropped: z.array(DroppedHypothesisSchema),
});
export type HypothesisProposal = z.infer<typeof HypothesisProposalSchema>;

/** Highest confidence first; ties keep their order. */
export function rankHypotheses(hypotheses: readonly Hypothesis[]): RankedHypothesis[] {
  return hypotheses
    .map((h, i) => ({ h, i }))
    .sort((a, b) => b.h.confidence - a.h.confidence || a.i - b.i)
    .map(({ h }, i) => ({ ...h, rank: i + 1 }));
}

export interface HypothesisScope {
  evidence: readonly Evidence[];
  catalog: readonly RemediationScript[];
  incident: IncidentContext;
}

/** Every host the incident or its evidence names: the only hosts a suggestion may target. */
export function knownHosts(scope: Pick<HypothesisScope, 'evidence' | 'incident'>): Set<string> {
  const hosts = new Set(scope.incident.hosts);
  for (const e of scope.evidence) {
    if ('host' in e) hosts.add(e.host);
    if ('hosts' in e) for (const h of e.hosts) hosts.add(h);
  }
  return hosts;
}

/**
 * Keeps the hypotheses whose every citation and suggestion is real: evidence ids that exist, catalog scripts, parameters
 * the script declares with values it accepts (never a secret), and hosts the incident knows. A hypothesis with any other
 * is dropped whole, with the reasons, since its rationale leans on what is not there.
 */
export function checkHypotheses(hypotheses: readonly Hypothesis[], scope: HypothesisScope): { kept: Hypothesis[]; dropped: DroppedHypothesis[] } {
  const evidenceIds = new Set(scope.evidence.map((e) => e.id));
  const scripts = new Map(scope.catalog.map((s) => [s.scriptId, s]));
  const hosts = knownHosts(scope);
  const kept: Hypothesis[] = [];
  const dropped: DroppedHypothesis[] = [];
  for (const h of hypotheses) {
    const reasons: string[] = [];
    for (const id of new Set(h.evidenceIds)) if (!evidenceIds.has(id)) reasons.push(`cites evidence "${id}", which does not exist`);
    for (const step of [...h.checks, ...h.remediations]) reasons.push(...suggestionProblems(step, scripts, hosts));
    if (reasons.length > 0) dropped.push({ title: h.title, reasons });
    else kept.push({ ...h, evidenceIds: [...new Set(h.evidenceIds)] });
  }
  return { kept, dropped };
}

function suggestionProblems(step: SuggestedRun, scripts: Map<string, RemediationScript>, hosts: Set<string>): string[] {
  const problems: string[] = [];
  for (const host of step.hosts ?? []) if (!hosts.has(host)) problems.push(`targets host "${host}", which neither the incident nor its evidence names`);
  if (step.scriptId === undefined) {
    if ((step.parameters ?? []).length > 0) problems.push(`gives parameters to "${step.description.slice(0, 80)}", which names no script`);
    return problems;
  }
  const script = scripts.get(step.scriptId);
  if (!script) return [...problems, `names script "${step.scriptId}", which is not in the catalog`];
  const form: Record<string, string> = {};
  for (const { name, value } of step.parameters ?? []) {
    const declared = script.parameters.find((p) => p.name === name);
    if (!declared) problems.push(`gives parameter "${name}", which script "${script.scriptId}" does not take`);
    else if (declared.type === 'secret') problems.push(`gives a value for "${name}" of script "${script.scriptId}", a secret: secrets are never suggested`);
    else if (declared.type === 'boolean' && value !== 'true' && value !== 'false') problems.push(`gives "${name}" of script "${script.scriptId}" the value "${value.slice(0, 80)}"; it is true or false`);
    else if (name in form) problems.push(`gives parameter "${name}" of script "${script.scriptId}" twice`);
    else form[name] = value;
  }
  if (problems.length > 0) return problems;
  // Every parameter optional: a suggestion prefills a form, and the person fills in the rest.
  const optional = script.parameters.map((p) => ({ ...p, required: false }) as Parameter);
  const checked = paramsSchema(optional).safeParse(coerceFormValues(optional, form));
  if (!checked.success) {
    for (const issue of checked.error.issues) problems.push(`gives "${String(issue.path[0] ?? '')}" of script "${script.scriptId}" a value it refuses: ${issue.message}`);
  }
  return problems;
}
