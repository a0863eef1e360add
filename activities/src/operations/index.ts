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
