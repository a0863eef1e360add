import { readFile, writeFile } from 'node:fs/promises';
import { API_DOC, referenceMarkdown } from './api-document.ts';

// `npm run docs:api` writes docs/api.md from the OpenAPI document; `npm run docs:api -- --check` only says whether it is current.

const text = referenceMarkdown();
if (process.argv.includes('--check')) {
  if ((await readFile(API_DOC, 'utf8')) !== text) {
    console.error('docs/api.md is not what the OpenAPI document gives; run npm run docs:api');
    process.exit(1);
  }
  console.log('docs/api.md is current');
} else {
  await writeFile(API_DOC, text);
  console.log(`wrote ${API_DOC}`);
}
