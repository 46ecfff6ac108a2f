/**
 * vitest global setup: the tests use real components (OpenSSH sshd, dash, busybox sh, bash, git,
 * shellcheck). A missing Debian package is installed with apt-get when running as root; otherwise
 * the run fails naming the command that installs it. Nothing is skipped silently.
 */
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';

/** Debian package → a file it provides that the tests need. */
const REQUIRED: Record<string, string> = {
  'openssh-server': '/usr/sbin/sshd',
  'openssh-client': '/usr/bin/ssh-keygen',
  dash: '/usr/bin/dash',
  busybox: '/usr/bin/busybox',
  bash: '/bin/bash',
  git: '/usr/bin/git',
  shellcheck: '/usr/bin/shellcheck',
  systemd: '/usr/bin/systemd-analyze',
  sudo: '/usr/bin/sudo',
  // MyNodeOne's scripts (the differential tests run them) are bash + jq
  jq: '/usr/bin/jq',
  chromium: '/usr/bin/chromium',
  // promtool and a real Prometheus for the alerting rules and the scrape test
  prometheus: '/usr/bin/promtool',
};

/** Extra packages named by COURIER_TEST_PACKAGES (the browser tests add chromium this way). */
function requiredPackages(): Record<string, string> {
  return { ...REQUIRED };
}

export default function setup(): void {
  const missing = Object.entries(requiredPackages())
    .filter(([, file]) => !existsSync(file))
    .map(([pkg]) => pkg);
  if (missing.length === 0) return;
  const command = `apt-get update && apt-get install -y --no-install-recommends ${missing.join(' ')}`;
  if (process.getuid?.() !== 0) {
    throw new Error(`courier's tests need Debian packages that are not installed: ${missing.join(', ')}.\nInstall them with:\n  sudo ${command}`);
  }
  console.error(`[global-setup] installing missing packages: ${missing.join(', ')}`);
  execFileSync('sh', ['-c', command], { stdio: ['ignore', 'inherit', 'inherit'], env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  const still = Object.entries(requiredPackages()).filter(([, file]) => !existsSync(file));
  if (still.length > 0) throw new Error(`apt-get did not provide: ${still.map(([p, f]) => `${p} (${f})`).join(', ')}`);
}
