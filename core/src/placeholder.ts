/** `{{name}}` placeholders in command templates and operations; everything else is literal. */
export const PLACEHOLDER = /\{\{\s*([a-z][a-z0-9_]*)\s*\}\}/g;
