import js from '@eslint/js';
import tseslint from 'typescript-eslint';

const processEnvRule = { selector: "MemberExpression[object.name='process'][property.name='env']", message: 'read settings from the Config that core/src/config.ts parses once' };

const named = "[arguments.0.type=/^(Literal|TemplateLiteral)$/]";
const byObject = 'pass the definition from @drydock/workflows/messages (or the workflow reference), not its name';
const temporalNameRules = [
  { selector: `CallExpression[callee.property.name=/^(signal|executeUpdate|startUpdate|signalWithStart|executeUpdateWithStart|startUpdateWithStart)$/]${named}`, message: byObject },
  { selector: `CallExpression[callee.property.name='query'][callee.object.name=/andle$/]${named}`, message: byObject },
  { selector: `CallExpression[callee.property.name='query'][callee.object.callee.property.name='getHandle']${named}`, message: byObject },
  { selector: `CallExpression[callee.object.property.name='workflow'][callee.property.name=/^(start|execute)$/]${named}`, message: byObject },
  { selector: `CallExpression[callee.name=/^(startChild|executeChild)$/]${named}`, message: byObject },
  { selector: `NewExpression[callee.name='WithStartWorkflowOperation']${named}`, message: byObject },
  { selector: "Property[key.name='workflowType'][value.type=/^(Literal|TemplateLiteral)$/]", message: byObject },
  { selector: "CallExpression[callee.property.name='signalWithStart'] Property[key.name='signal'][value.type=/^(Literal|TemplateLiteral)$/]", message: byObject },
  { selector: "CallExpression[callee.name=/^define(Signal|Query|Update)$/]", message: "define a workflow's messages in the *.messages.ts beside it, so clients import them without workflow code" },
];

export default tseslint.config(
  { ignores: ['**/node_modules/**', 'web/build/**', 'web/.react-router/**', '.data/**', 'test-output/**'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    languageOptions: {
      parserOptions: { projectService: { allowDefaultProject: ['*.js', '*.ts', 'launcher/prepare.mjs'] }, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/no-misused-promises': ['error', { checksVoidReturn: { arguments: false, attributes: false } }],
      '@typescript-eslint/consistent-type-imports': 'error',
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_' }],
      'no-restricted-syntax': ['error', processEnvRule],
    },
  },
  {
    // Workflows, signals, queries and updates are named once, in the *.messages.ts beside their workflow (decision 024).
    files: ['api/src/**/*.ts', 'activities/src/**/*.ts', 'temporal/src/**/*.ts', 'workflows/src/**/*.ts'],
    ignores: ['**/*.messages.ts', '**/*.test-workflows.ts'],
    rules: { 'no-restricted-syntax': ['error', processEnvRule, ...temporalNameRules] },
  },
  {
    // Settings are read from the environment in one place; launchers and tests hand environments to children.
    files: ['core/src/config.ts', 'launcher/src/**', 'tests/**', 'temporal/src/dev-server.ts', 'agent/src/script-runner.ts', '**/*.test.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    // Plain JavaScript that must parse on any Node, to say which Node is needed.
    files: ['launcher/prepare.mjs'],
    languageOptions: { globals: { process: 'readonly', console: 'readonly' } },
  },
  {
    // MIT GSS-API finds the acceptor's keytab only through KRB5_KTNAME: the SPNEGO adapter sets it from the Config it is given.
    files: ['api/src/auth/spnego.ts'],
    rules: { 'no-restricted-syntax': 'off' },
  },
  {
    // vitest fixtures that use no other fixture take `{}` as their first argument.
    files: ['**/*.test.ts', 'tests/support/browser.ts'],
    rules: { 'no-empty-pattern': 'off' },
  },
  {
    // Workflow code is replayed: deterministic, no I/O, and only activity *types* from the activity packages.
    files: ['workflows/src/**/*.ts'],
    ignores: ['workflows/src/**/*.test.ts'],
    rules: {
      'no-restricted-imports': [
        'error',
        {
          patterns: [
            { group: ['node:*', 'fs', 'path', 'os', 'crypto', 'child_process', 'http', 'net'], message: 'workflows must be deterministic: no Node built-ins' },
          ],
          paths: ['@drydock/activities', '@drydock/agent', '@drydock/api', '@drydock/core', '@drydock/temporal'].map((name) => ({
            name,
            allowTypeImports: true,
            message: 'import activity types only; deterministic modules by their subpath (e.g. @drydock/temporal/names)',
          })),
        },
      ],
      'no-restricted-globals': ['error', { name: 'process', message: 'workflows have no process' }],
    },
  },
);
