import { CicdError } from '../cicd-error.ts';
import { cicdHttp, jsonBody, type CicdHttp, type CicdHttpRequest, type CicdHttpResponse } from '../cicd-http.ts';

export interface JenkinsConnection {
  /** `https://jenkins.example.com/` or `https://ci.example.com/jenkins/`. */
  url: string;
  user: string;
  /** An API token (User → Security → API Token); a password works too but is not recommended. */
  apiToken: string;
}

export interface JenkinsClientOptions {
  fetch?: typeof fetch;
  requestTimeoutMs?: number;
  now?: () => number;
}

interface Crumb {
  field: string;
  value: string;
  cookie: string;
}

/** `team/deploy/api` as Jenkins addresses it: `job/team/job/deploy/job/api`. */
export function jobUrlPath(path: string): string {
  const segments = path.split('/').filter((s) => s !== '');
  if (segments.length === 0 || segments.some((s) => s === '.' || s === '..')) {
    throw new CicdError('jenkins', 'not_found', `"${path}" is not a Jenkins job path: give folders and the job separated by "/", as in team/deploy/api`);
  }
  return segments.map((s) => `job/${encodeURIComponent(s)}`).join('/');
}

/** The job path back from a Jenkins URL or URL path: `…/job/team/job/api/12/` is `team/api`. */
export function jobPathFromUrl(url: string): string | undefined {
  const parts = url.replace(/^https?:\/\/[^/]+/, '').split('/').filter(Boolean);
  const names: string[] = [];
  for (let i = 0; i < parts.length - 1; i++) {
    if (parts[i] === 'job') {
      names.push(decodeURIComponent(parts[i + 1]!));
      i++;
    }
  }
  return names.length > 0 ? names.join('/') : undefined;
}

/**
 * Jenkins' HTTP API with Basic auth. POSTs carry the CSRF crumb from /crumbIssuer/api/json with the session cookie
 * it was issued for (Jenkins binds the crumb to the session); a crumb Jenkins no longer honours is fetched again once.
 */
export class JenkinsClient {
  readonly http: CicdHttp;
  private readonly authorization: string;
  private crumb: Promise<Crumb | undefined> | undefined;

  constructor(connection: JenkinsConnection, options: JenkinsClientOptions = {}) {
    this.http = cicdHttp({ provider: 'jenkins', baseUrl: connection.url, ...options });
    this.authorization = `Basic ${Buffer.from(`${connection.user}:${connection.apiToken}`, 'utf8').toString('base64')}`;
  }

  get base(): string {
    return this.http.base;
  }

  async get(path: string, request: CicdHttpRequest = {}): Promise<CicdHttpResponse> {
    return this.http.request('GET', path, { ...request, headers: { authorization: this.authorization, ...request.headers } });
  }

  /** GET that must answer 2xx with Jenkins' JSON; anything else is a CicdError about `what`. */
  async getJson<T>(path: string, what: string, request: CicdHttpRequest = {}): Promise<T> {
    const res = await this.get(path, request);
    if (res.status !== 200) throw this.failure(res, what);
    return this.json<T>(res);
  }

  json<T>(res: CicdHttpResponse): T {
    if (!res.headers.get('x-jenkins')) {
      throw new CicdError('jenkins', 'wrong_url', `${res.url} answered without Jenkins' X-Jenkins header: is ${this.base} the address of Jenkins?`);
    }
    return jsonBody<T>('jenkins', this.base, res);
  }

  async post(path: string, request: CicdHttpRequest = {}): Promise<CicdHttpResponse> {
    const send = async (crumb: Crumb | undefined) =>
      this.http.request('POST', path, {
        ...request,
        headers: { authorization: this.authorization, ...(crumb ? { [crumb.field]: crumb.value, cookie: crumb.cookie } : {}), ...request.headers },
      });
    const res = await send(await this.currentCrumb());
    if (res.status === 403 && /No valid crumb/i.test(res.text)) {
      this.crumb = undefined;
      return send(await this.currentCrumb());
    }
    return res;
  }

  failure(res: CicdHttpResponse, what: string): CicdError {
    return this.http.failure(res, what, {
      badCredentials: 'check the user and API token (Jenkins: your user → Security → API Token)',
      missing: (r) => {
        const named = /is missing the ([\w/ ]+?) permission/i.exec(r.text)?.[1];
        return named ? [named] : [];
      },
    });
  }

  private currentCrumb(): Promise<Crumb | undefined> {
    this.crumb ??= this.fetchCrumb().catch((err: unknown) => {
      this.crumb = undefined;
      throw err;
    });
    return this.crumb;
  }

  private async fetchCrumb(): Promise<Crumb | undefined> {
    const res = await this.get('/crumbIssuer/api/json');
    // No crumb issuer: CSRF protection is off (or the instance predates it), and POSTs need no crumb.
    if (res.status === 404) return undefined;
    if (res.status !== 200) throw this.failure(res, 'the CSRF crumb');
    const body = this.json<{ crumb?: string; crumbRequestField?: string }>(res);
    if (!body.crumb || !body.crumbRequestField) throw new CicdError('jenkins', 'wrong_url', `${this.base}/crumbIssuer/api/json answered without a crumb`);
    const cookie = res.headers
      .getSetCookie()
      .map((c) => c.split(';')[0]!)
      .join('; ');
    return { field: body.crumbRequestField, value: body.crumb, cookie };
  }
}
