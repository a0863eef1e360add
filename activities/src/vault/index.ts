// @drydock/activities/vault: secrets from Vault's KV version 2 engine, for the worker and the agent.
// `createVaultClient(config.vault)` gives `readSecret(mount, path, { version })` and `resolve('vault:<mount>/<path>[?version=<n>]#<key>')`
// (the reference parsed by `VaultReferenceSchema` in core, which the API uses to check input). Token or AppRole auth
// (vault-token.ts: one login shared by concurrent reads, renewal two thirds into the lease, a new login once renewal
// stops extending it or Vault no longer honours the token). A VaultError never holds a value, token or secret id, and
// the client logs nothing. Nothing resolves references in runs yet (issue 9).
export { createVaultClient, type VaultClient, type VaultClientOptions, type VaultSecret } from './vault-client.ts';
export { VaultError, type VaultErrorReason } from './vault-error.ts';
