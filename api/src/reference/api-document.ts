import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { type Config, loadConfig, REPO_ROOT } from '@drydock/core';
import { createApp } from '../app.ts';
import type { ApiDeps } from '../context.ts';
import { openApiDocument } from '../openapi.ts';
import { apiMarkdown, type ApiDocument } from './api-markdown.ts';

export const API_DOC = join(REPO_ROOT, 'docs/api.md');

/** Stands in for a dependency that declaring the routes must not touch; a touch is a bug, and says where. */
function untouchable(name: string): never {
  return new Proxy(
    {},
    {
      get(_, property) {
        throw new Error(`${name}.${String(property)} was used while only declaring the API's routes`);
      },
    },
  ) as never;
}

/** The OpenAPI document of the API as `config` configures it, without a database, Temporal or a blob store. */
export function declaredApiDocument(config: Config) {
  const deps: ApiDeps = {
    config,
    db: untouchable('db'),
    temporal: untouchable('temporal'),
    catalog: untouchable('catalog'),
    secrets: untouchable('secrets'),
    logBus: untouchable('logBus'),
    localUser: untouchable('localUser'),
  };
  return openApiDocument(createApp(deps));
}

/** docs/api.md, from the document as `npm start` serves it (its codec key only decides that the codec routes exist). */
export function referenceMarkdown(): string {
  const config = loadConfig({ DRYDOCK_CODEC_KEY: randomBytes(32).toString('base64') });
  return apiMarkdown(declaredApiDocument(config) as unknown as ApiDocument);
}
