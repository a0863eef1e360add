import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { loadConfig, openDatabase } from '@drydock/core';
import { verifyAuditChain } from './chain.ts';

// `npm run audit:verify [--team <id>]`: walks every team's audit chain (or one) and names the first broken row.
// Exit code 0 when every chain holds, 1 when one does not, 2 when it cannot check.

/** DATABASE_URL, or else the embedded PostgreSQL of a running `npm start`, with the app role's stored password. */
async function databaseUrl(): Promise<string> {
  const config = loadConfig();
  if (config.DATABASE_URL) return config.DATABASE_URL;
  const file = join(config.DRYDOCK_DATA_DIR, 'secrets.json');
  let secrets: { postgresAppPassword?: string };
  try {
    secrets = JSON.parse(await readFile(file, 'utf8')) as typeof secrets;
  } catch {
    throw new Error(`no DATABASE_URL and no ${file}: set DATABASE_URL, or run this next to the data directory of npm start`);
  }
  if (!secrets.postgresAppPassword) throw new Error(`${file} has no postgresAppPassword: start Drydock once with npm start`);
  return `postgres://drydock_app:${encodeURIComponent(secrets.postgresAppPassword)}@127.0.0.1:${config.DRYDOCK_PG_PORT}/drydock`;
}

const args = process.argv.slice(2);
const teamFlag = args.indexOf('--team');
const teamId = teamFlag >= 0 ? args[teamFlag + 1] : undefined;
if (teamFlag >= 0 && !teamId) {
  console.error('audit:verify: --team needs a team id (npm run audit:verify -- --team <id>)');
  process.exit(2);
}

let handle;
try {
  handle = openDatabase(await databaseUrl(), { max: 1 });
  const report = await verifyAuditChain(handle.db, teamId ? { teamId } : {});
  for (const team of report.teams) {
    if (team.firstBreak) console.log(`team ${team.teamId}: BROKEN at ${team.firstBreak.kind} row: ${team.firstBreak.message}`);
    else console.log(`team ${team.teamId}: ${team.rows} rows, chain intact; head #${team.head?.seq ?? 0} ${team.head?.hash ?? '-'}`);
  }
  if (report.teams.length === 0) console.log('no audit rows yet');
  console.log(report.ok ? 'audit chain: intact' : 'audit chain: BROKEN (see above)');
  process.exitCode = report.ok ? 0 : 1;
} catch (err) {
  console.error(`audit:verify: cannot check the chain: ${err instanceof Error ? err.message : String(err)}`);
  process.exitCode = 2;
} finally {
  await handle?.close();
}
