/**
 * A server's last line of defence: a rejection nobody handled, or an exception that escaped a callback, is
 * logged once with its stack and the process goes on serving every other request. Installed once the server
 * listens, so a failure to start still ends the process with its reason.
 */
export function logStrayErrors(processName: string, log: (message: string, err: unknown) => void = console.error): void {
  process.on('unhandledRejection', (reason) => log(`${processName}: a promise rejected with nobody to handle it; serving on:`, reason));
  process.on('uncaughtException', (err) => log(`${processName}: an exception escaped its request; serving on:`, err));
}
