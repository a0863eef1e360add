import type { AgentScriptJob } from './run-contract.ts';
import { SECRET_MASK } from './secret-mask.ts';

// How a job's values look wherever they leave the script: variable names, masked output, snapshots, files.

/** Variable names whose values never leave the host in a snapshot, whatever they hold. */
const SECRET_NAME = /SECRET|TOKEN|PASSWORD|KEY|CREDENTIAL/i;

/** The environment variable a parameter reaches the script as. */
export function paramEnvName(name: string): string {
  return `DRYDOCK_PARAM_${name.toUpperCase()}`;
}

/** Replaces the values of the job's secret parameters in a line; the longest first, so no part of one survives. */
export function secretMasker(job: Pick<AgentScriptJob, 'secretNames' | 'params'>): (line: string) => string {
  const secrets = job.secretNames
    .map((n) => job.params[n])
    .filter((v): v is string => typeof v === 'string' && v.length > 0)
    .sort((a, b) => b.length - a.length);
  if (secrets.length === 0) return (line) => line;
  return (line) => secrets.reduce((out, s) => out.split(s).join(SECRET_MASK), line);
}

/** The script's variables as a snapshot may show them: secret parameters, secret-looking names and secret values masked. */
export function maskEnvironment(job: Pick<AgentScriptJob, 'secretNames' | 'params'>, env: Record<string, string>): Record<string, string> {
  const secretVars = new Set(job.secretNames.map(paramEnvName));
  const mask = secretMasker(job);
  return Object.fromEntries(
    Object.keys(env)
      .sort()
      .map((name) => [name, SECRET_NAME.test(name) || secretVars.has(name) ? SECRET_MASK : mask(env[name]!)]),
  );
}

const CONTENT_TYPES: Record<string, string> = {
  '.txt': 'text/plain; charset=utf-8',
  '.log': 'text/plain; charset=utf-8',
  '.md': 'text/markdown; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.json': 'application/json',
  '.xml': 'application/xml',
  '.html': 'text/html; charset=utf-8',
  '.yaml': 'application/yaml',
  '.yml': 'application/yaml',
  '.gz': 'application/gzip',
  '.tgz': 'application/gzip',
  '.tar': 'application/x-tar',
  '.zip': 'application/zip',
  '.png': 'image/png',
  '.jpg': 'image/jpeg',
  '.pdf': 'application/pdf',
};

/** The content type a captured file is served with, by its extension. */
export function contentTypeOf(name: string): string {
  const dot = name.lastIndexOf('.');
  const ext = dot > name.lastIndexOf('/') ? name.slice(dot).toLowerCase() : '';
  return CONTENT_TYPES[ext] ?? 'application/octet-stream';
}
