// Browser-safe: the API's request and response schemas, one module per resource under api/; the API declares
// its routes from them, the OpenAPI document is generated from them, and the web app shares them.
export * from './api/index.ts';
