export { createVaultClient, type VaultClient, type VaultClientOptions, type VaultSecret } from './vault-client.ts';
export { VaultError, type VaultErrorReason } from './vault-error.ts';
