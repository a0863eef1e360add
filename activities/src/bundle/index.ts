export {
  BundleError,
  CHECKSUM_FILE,
  MISSING_FILE,
  writeBundle,
  type BundleEntry,
  type BundleEntrySource,
  type BundleFile,
  type BundleLimits,
  type BundleOptions,
  type BundleReport,
  type BundleUnavailable,
} from './bundle-writer.ts';
export { ReproduceError, type ReproduceInput } from './reproduce-input.ts';
export { reproduceShellScript, shQuote } from './reproduce-sh.ts';
export { reproducePowerShellScript } from './reproduce-ps1.ts';
export { windowsArgument, windowsCommandLine } from './windows-command-line.ts';
