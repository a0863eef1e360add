// @drydock/activities/discovery: scanning address ranges for SSH and WinRM endpoints and proposing hosts.
export { type DiscoveryPolicy, type ScanRanges, scanAddresses } from './address-range.ts';
export { connectionPace, type PaceClock } from './connection-pace.ts';
export { type DiscoveryRefusal, DiscoveryRefusedError } from './discovery-error.ts';
export { osFromBanner, type SshIdentity } from './ssh-probe.ts';
export {
  createTargetDiscovery,
  DEFAULT_PROBES,
  type DiscoveryProgress,
  type DiscoveryRequest,
  type DiscoveryResult,
  type Endpoint,
  type HostProposal,
  MAX_CONCURRENCY,
  MAX_RATE_PER_SECOND,
  type Probe,
  type ProbeProtocol,
  proposeHost,
  suggestedHostId,
  type TargetDiscovery,
} from './target-discovery.ts';
export { IDENTIFY_REQUEST, readIdentifyResponse, type WinrmIdentity } from './winrm-probe.ts';
