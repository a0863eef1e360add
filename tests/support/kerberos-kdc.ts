import { type ChildProcess, execFile, spawn } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as delay } from 'node:timers/promises';
import { freePort } from '@drydock/core';

// A real MIT Kerberos KDC (Debian's krb5-kdc) for the tests: a throwaway realm on a loopback port, with its own
// krb5.conf, kdc.conf and database in a temporary directory. Nothing reads /etc/krb5.conf or /etc/krb5kdc:
// every command gets KRB5_CONFIG and KRB5_KDC_PROFILE. kadmin.local (krb5-admin-server) edits the database
// directly, so no kadmind runs. Clients get tickets with kinit, the password on its standard input.

const KDC_BINARIES = ['/usr/sbin/krb5kdc', '/usr/sbin/kdb5_util', '/usr/sbin/kadmin.local', '/usr/bin/kinit'];

export interface KdcOptions {
  /** Default `DRYDOCK.TEST`. */
  realm?: string;
  /** User principals (`alice`) and their passwords. */
  users?: Record<string, string>;
  /** Service principals with random keys, such as `HTTP/localhost`. */
  services?: string[];
}

export interface TestKdc {
  realm: string;
  port: number;
  dir: string;
  /** The krb5.conf a client uses: this realm, its KDC on loopback, no DNS. */
  krb5Config: string;
  /** The variables a Kerberos client process needs to find this realm (KRB5_CONFIG). */
  env: Record<string, string>;
  addUser(name: string, password: string): Promise<void>;
  addService(principal: string): Promise<void>;
  /** Writes the current keys of `principals` (`HTTP/localhost`) to a new keytab file; returns its path. */
  keytab(principals: string[], name?: string): Promise<string>;
  /** Gets a ticket-granting ticket for `user` with kinit; returns its credential cache (`FILE:<path>`). */
  kinit(user: string, password: string): Promise<string>;
  /** The KDC's log, for a failing test's message. */
  log(): Promise<string>;
  stop(): Promise<void>;
}

function run(file: string, args: string[], env: NodeJS.ProcessEnv, input?: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const child = execFile(file, args, { env, timeout: 20_000 }, (err, stdout, stderr) => {
      if (err) reject(new Error(`${file} ${args.join(' ')} failed: ${stderr.trim() || err.message}`));
      else resolve(stdout);
    });
    child.stdin?.end(input ?? '');
  });
}

async function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = connect(port, '127.0.0.1');
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

export async function startKdc(options: KdcOptions = {}): Promise<TestKdc> {
  const realm = options.realm ?? 'DRYDOCK.TEST';
  const dir = await mkdtemp(join(tmpdir(), 'drydock-kdc-'));
  const port = await freePort();
  const krb5Config = join(dir, 'krb5.conf');
  const kdcProfile = join(dir, 'kdc.conf');
  await writeFile(
    krb5Config,
    [
      '[libdefaults]',
      `  default_realm = ${realm}`,
      '  dns_lookup_kdc = false',
      '  dns_lookup_realm = false',
      '  rdns = false',
      '  dns_canonicalize_hostname = false',
      // TCP only: one transport to reason about on a busy machine.
      '  udp_preference_limit = 1',
      '[realms]',
      `  ${realm} = {`,
      `    kdc = 127.0.0.1:${port}`,
      '  }',
      '[domain_realm]',
      `  localhost = ${realm}`,
      `  .localhost = ${realm}`,
      '',
    ].join('\n'),
  );
  await writeFile(
    kdcProfile,
    [
      '[kdcdefaults]',
      `  kdc_listen = 127.0.0.1:${port}`,
      `  kdc_tcp_listen = 127.0.0.1:${port}`,
      '[realms]',
      `  ${realm} = {`,
      `    database_name = ${join(dir, 'principal')}`,
      `    key_stash_file = ${join(dir, 'stash')}`,
      `    acl_file = ${join(dir, 'kadm5.acl')}`,
      '    max_life = 1h',
      '    supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal',
      '  }',
      '[logging]',
      `  kdc = FILE:${join(dir, 'kdc.log')}`,
      '',
    ].join('\n'),
  );
  await writeFile(join(dir, 'kadm5.acl'), '');
  const env: NodeJS.ProcessEnv = { ...process.env, KRB5_CONFIG: krb5Config, KRB5_KDC_PROFILE: kdcProfile };

  const missing = [];
  for (const binary of KDC_BINARIES) {
    if (!(await readFile(binary).then(() => true, () => false))) missing.push(binary);
  }
  if (missing.length > 0) {
    await rm(dir, { recursive: true, force: true });
    throw new Error(`the Kerberos tests need MIT Kerberos (${missing.join(', ')} missing): apt-get install krb5-kdc krb5-admin-server krb5-user libkrb5-dev`);
  }

  const kadmin = (query: string) => run('/usr/sbin/kadmin.local', ['-r', realm, '-q', query], env);
  let kdc: ChildProcess | undefined;
  const kdcOutput: string[] = [];
  const kdcLog = () => readFile(join(dir, 'kdc.log'), 'utf8').catch(() => '');
  const stop = async () => {
    if (kdc && kdc.exitCode === null && kdc.signalCode === null) {
      const exited = new Promise<void>((resolve) => kdc!.once('exit', () => resolve()));
      kdc.kill('SIGTERM');
      await exited;
    }
    await rm(dir, { recursive: true, force: true });
  };

  try {
    await run('/usr/sbin/kdb5_util', ['create', '-s', '-r', realm, '-P', 'drydock-test-master-key'], env);
    for (const [name, password] of Object.entries(options.users ?? {})) await kadmin(`addprinc -pw ${password} ${name}`);
    for (const service of options.services ?? []) await kadmin(`addprinc -randkey ${service}`);

    // setpriv: the KDC dies with the test process, even when that is killed, and leaves no daemon behind.
    kdc = spawn('/usr/bin/setpriv', ['--pdeathsig', 'SIGKILL', '/usr/sbin/krb5kdc', '-n', '-r', realm, '-P', join(dir, 'kdc.pid')], {
      env,
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    for (const stream of [kdc.stdout!, kdc.stderr!]) stream.on('data', (chunk: Buffer) => kdcOutput.push(chunk.toString()));
    for (let i = 0; ; i++) {
      if (kdc.exitCode !== null || kdc.signalCode !== null) throw new Error(`krb5kdc exited: ${kdcOutput.join('')}\n${await kdcLog()}`);
      if ((await kdcLog()).includes('commencing operation') && (await listening(port))) break;
      if (i > 200) throw new Error(`krb5kdc did not listen on 127.0.0.1:${port} within 10 s:\n${await kdcLog()}`);
      await delay(50);
    }
  } catch (err) {
    await stop();
    throw err;
  }

  let keytabs = 0;
  return {
    realm,
    port,
    dir,
    krb5Config,
    env: { KRB5_CONFIG: krb5Config },
    addUser: async (name, password) => void (await kadmin(`addprinc -pw ${password} ${name}`)),
    addService: async (principal) => void (await kadmin(`addprinc -randkey ${principal}`)),
    async keytab(principals, name) {
      const file = join(dir, name ?? `service-${++keytabs}.keytab`);
      // -norandkey: every keytab holds the keys the KDC issues tickets with, however many are written.
      for (const principal of principals) await kadmin(`ktadd -norandkey -k ${file} ${principal}`);
      return file;
    },
    async kinit(user, password) {
      const cache = `FILE:${join(dir, `ccache-${user.replace(/[^A-Za-z0-9]/g, '_')}`)}`;
      await run('/usr/bin/kinit', [`${user}@${realm}`], { ...env, KRB5CCNAME: cache }, `${password}\n`);
      return cache;
    },
    log: kdcLog,
    stop,
  };
}
