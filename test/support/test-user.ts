/**
 * A real Unix user for tests that log in as someone else (a node user with a password, its own
 * home and the default ~/.ssh/authorized_keys): created with useradd and chpasswd, removed with
 * userdel -r. Needs root (the global test setup runs as root in CI).
 */
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

/** A created user. */
export interface TestUser {
  name: string;
  password: string;
  home: string;
  uid: number;
  gid: number;
  /** Remove the user, its home and any sudoers file a test wrote for it. */
  remove(): Promise<void>;
}

/** Create `name` (a fresh home, /bin/sh, the password set); an existing user of that name is removed first. */
export async function createTestUser(name: string, password: string): Promise<TestUser> {
  if (process.getuid?.() !== 0) throw new Error(`creating the test user ${name} needs root (useradd); run the tests as root or in CI`);
  await run('userdel', ['-r', '-f', name]).catch(() => undefined);
  await run('useradd', ['-m', '-s', '/bin/sh', name]);
  const child = execFile('chpasswd');
  child.stdin!.end(`${name}:${password}\n`);
  await new Promise<void>((resolve, reject) => child.on('exit', (code) => (code === 0 ? resolve() : reject(new Error(`chpasswd exited ${code}`)))));
  const { stdout } = await run('getent', ['passwd', name]);
  const fields = stdout.trim().split(':');
  return {
    name,
    password,
    home: fields[5]!,
    uid: Number(fields[2]),
    gid: Number(fields[3]),
    remove: async () => {
      await run('userdel', ['-r', '-f', name]).catch(() => undefined);
    },
  };
}
