import type { ParamValue, ParamValues } from '../manifest.ts';
import { PLACEHOLDER } from '../placeholder.ts';
import { type Operation, OperationDefinitionError, OperationSchema } from './operation-schema.ts';
import { bindPlaceholders } from './sql-statements.ts';

function asText(value: ParamValue): string {
  return Array.isArray(value) ? value.join(',') : String(value);
}

/**
 * Fills `{{param}}` placeholders with parameter values, as data: each lands inside the argv word, path, check
 * argument or header field it was written in; in a URL it is percent-encoded; in a SQL query it becomes a bind
 * marker with the value in `bind`. Pass the non-secret values only: secrets reach an operation through
 * runOperation's `secrets` (a database password), never through text that a process list or log could show.
 * The result is validated again, so a value that makes a check invalid (size_gt_mb:abc) is an error here.
 */
export function renderOperation(op: Operation, params: ParamValues): Operation {
  const valueOf = (name: string): ParamValue => {
    const value = params[name];
    if (value === undefined) throw new OperationDefinitionError(`{{${name}}} has no value: give the parameter ${name} a value or a default`);
    return value;
  };
  const fill = (text: string, encode: (value: string) => string = (v) => v) =>
    text.replace(new RegExp(PLACEHOLDER.source, 'g'), (_match, name: string) => encode(asText(valueOf(name))));
  const fillOptional = (text: string | undefined) => (text === undefined ? undefined : fill(text));

  let rendered: Operation;
  switch (op.type) {
    case 'shell_command':
      rendered = {
        ...op,
        command: op.command.map((word) => fill(word)),
        working_directory: fillOptional(op.working_directory),
        environment: op.environment && Object.fromEntries(Object.entries(op.environment).map(([k, v]) => [k, fill(v)])),
      };
      break;
    case 'file_validation':
      rendered = { ...op, path: fill(op.path), checks: op.checks.map((c) => fill(c) as typeof c) };
      break;
    case 'service_health':
      rendered = {
        ...op,
        http: op.http && { ...op.http, url: fill(op.http.url, encodeURIComponent), expect_body_contains: fillOptional(op.http.expect_body_contains) },
        systemd: op.systemd && { ...op.systemd, unit: fill(op.systemd.unit) },
        windows_service: op.windows_service && { ...op.windows_service, name: fill(op.windows_service.name) },
      };
      break;
    case 'database_query': {
      const { query, bind } = bindPlaceholders(op.query, op.engine, (name) => {
        const value = valueOf(name);
        return Array.isArray(value) ? value.join(',') : value;
      });
      rendered = {
        ...op,
        connection: { ...op.connection, host: fill(op.connection.host), database: fill(op.connection.database), user: fill(op.connection.user) },
        query,
        bind: bind.length > 0 ? bind : op.bind,
      };
      break;
    }
  }
  const parsed = OperationSchema.safeParse(withoutUndefined(rendered));
  if (!parsed.success) {
    const problems = parsed.error.issues.map((i) => (i.path.length > 0 ? `${i.path.join('.')}: ${i.message}` : i.message));
    throw new OperationDefinitionError(`with its parameters filled in, the ${op.type} operation is not valid: ${problems.join('; ')}`);
  }
  return parsed.data;
}

/** The spreads above leave `key: undefined` for absent optional fields; drop them, as JSON payloads would. */
function withoutUndefined<T extends object>(value: T): T {
  return JSON.parse(JSON.stringify(value)) as T;
}
