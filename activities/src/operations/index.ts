// @drydock/activities/operations: host operations. `runJobOperation` fills placeholders and exits 0 when every check
// passed; `runOperation` takes an `OperationExecutor` (`localOperations` in the agent; the SSH and WinRM executors in
// central workers reuse the judging functions exported here). One module per type: shell command, file validation,
// service health (HTTP, systemd, Windows service), database query (one statement, read-only, rolled back).
export { localOperations, type OperationContext, type OperationExecutor, runOperation, type RunOperationOptions } from './run-operation.ts';
export { parseScQuery, type ScQueryResult, type WindowsServiceState } from './windows-service.ts';
export { runJobOperation } from './job-operation.ts';
export {
  APK_DATABASE,
  apkVersion,
  INVENTORY_BUDGET_SECONDS,
  inventoryNameAllowed,
  LOOKUP_TIMEOUT_SECONDS,
  NO_PACKAGE_MANAGER,
  NO_SERVICE_MANAGER,
  NOT_LOOKED_UP,
  OPENRC_RUNTIME_DIR,
  PACKAGE_TOOLS,
  packageArgv,
  packageFact,
  type PackageTool,
  readDpkg,
  readRpm,
  REFUSED_NAME,
  serviceArgv,
  serviceFact,
  SYSTEMD_RUNTIME_DIR,
  type ToolAnswer,
  unrecorded,
  WINDOWS_INVENTORY_FRAGMENT,
  windowsInventory,
  windowsInventoryEnv,
} from './inventory-answers.ts';
