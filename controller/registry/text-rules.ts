/**
 * The allowed shape of every registry string that can reach a rendered file or the sync protocol.
 * Each rule has an allowed character set (checked first, so a message can name the one character
 * that is not allowed: a newline, a quote, a Cyrillic look-alike) and then a structural test.
 */

/** One kind of registry string. */
export interface TextRule {
  /** What it is, with an article: `a DNS label`. */
  noun: string;
  /** What is expected, shown in parentheses after the noun. */
  expected: string;
  /** Matches one allowed character. */
  allowed: RegExp;
  /** Uppercase ASCII letters get "use lowercase" instead of a generic message. */
  lowercase: boolean;
  /** The structural test, run once every character is allowed. */
  test: (text: string) => boolean;
}

const DNS_LABEL = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?$/;
const IPV4_OCTET = '(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])';
const IPV4 = new RegExp(`^${IPV4_OCTET}(\\.${IPV4_OCTET}){3}$`);

/** True for a lowercase DNS label: a-z, 0-9 and `-`, 1-63 characters, no `-` at either end. */
function isDnsLabel(text: string): boolean {
  return DNS_LABEL.test(text);
}

/** True for a domain name: at least two DNS labels, top-level label not all digits, at most 253 characters. */
function isDomain(text: string): boolean {
  const labels = text.split('.');
  const tld = labels[labels.length - 1] ?? '';
  return text.length <= 253 && labels.length >= 2 && labels.every(isDnsLabel) && !/^[0-9]+$/.test(tld);
}

/** True for an absolute path without `..` components (characters are checked by the rule's set). */
function isSafeAbsolutePath(text: string): boolean {
  return text.startsWith('/') && text.length <= 1024 && !text.split('/').includes('..');
}

/** Every kind of string the registry holds, by name. */
export const TEXT_RULES = {
  serviceName: {
    noun: 'a service name',
    expected: 'a-z, 0-9, "_", "." and "-", starting with a letter or digit, at most 63 characters',
    allowed: /[a-z0-9_.-]/,
    lowercase: true,
    test: (t) => /^[a-z0-9][a-z0-9_.-]{0,62}$/.test(t),
  },
  subdomain: {
    noun: 'a subdomain',
    expected: 'a DNS label: a-z, 0-9 and "-", 1-63 characters, not starting or ending with "-"; or "@" or "" for the bare domain',
    allowed: /[a-z0-9@-]/,
    lowercase: true,
    test: (t) => t === '' || t === '@' || isDnsLabel(t),
  },
  domain: {
    noun: 'a domain name',
    expected: 'lowercase DNS labels joined by ".", at least two, the last not all digits, at most 253 characters',
    allowed: /[a-z0-9.-]/,
    lowercase: true,
    test: isDomain,
  },
  ipv4: {
    noun: 'an IPv4 address',
    expected: 'four numbers 0-255 joined by ".", without leading zeros',
    allowed: /[0-9.]/,
    lowercase: false,
    test: (t) => IPV4.test(t),
  },
  nodeAddress: {
    noun: 'a node address',
    expected: 'an IPv4 address (four numbers 0-255 joined by ".", without leading zeros) or "localhost"',
    allowed: /[0-9.a-z]/,
    lowercase: true,
    test: (t) => t === 'localhost' || IPV4.test(t),
  },
  nodeName: {
    // what `hostname` prints (macOS: Vinays-MacBook-Pro; also worker_01, vps.example.net); the store key is its lowercase (node-key.ts)
    noun: 'a node name',
    expected: 'A-Z, a-z, 0-9, "-", "_" and ".", 1-63 characters, starting with a letter or digit, not ending with ".", no "..", not ending in ".lock"',
    allowed: /[A-Za-z0-9._-]/,
    lowercase: false,
    test: (t) => /^[A-Za-z0-9][A-Za-z0-9._-]{0,62}$/.test(t) && !t.endsWith('.') && !t.includes('..') && !/\.lock$/i.test(t),
  },
  sshUser: {
    noun: 'an SSH user name',
    expected: 'A-Z, a-z, 0-9, ".", "_" and "-", starting with a letter or "_", at most 32 characters',
    allowed: /[A-Za-z0-9._-]/,
    lowercase: false,
    test: (t) => /^[A-Za-z_][A-Za-z0-9._-]{0,31}$/.test(t),
  },
  rootPath: {
    noun: 'a root path',
    expected: 'an absolute path of A-Z, a-z, 0-9, "/", ".", "_", "-", "+" and "@", without ".." components',
    allowed: /[A-Za-z0-9/._+@-]/,
    lowercase: false,
    test: isSafeAbsolutePath,
  },
  kubernetesName: {
    noun: 'a Kubernetes name',
    expected: 'a DNS label: a-z, 0-9 and "-", 1-63 characters, not starting or ending with "-"',
    allowed: /[a-z0-9-]/,
    lowercase: true,
    test: isDnsLabel,
  },
  location: {
    noun: 'a location',
    expected: 'A-Z, a-z, 0-9, ".", "_" and "-", starting with a letter or digit, at most 64 characters',
    allowed: /[A-Za-z0-9._-]/,
    lowercase: false,
    test: (t) => /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(t),
  },
  clusterDomain: {
    noun: 'a cluster domain',
    expected: 'lowercase DNS labels joined by ".", such as "mycloud", at most 240 characters',
    allowed: /[a-z0-9.-]/,
    lowercase: true,
    test: (t) => t.length <= 240 && t.split('.').every(isDnsLabel),
  },
} satisfies Record<string, TextRule>;

/** The name of a rule in TEXT_RULES. */
export type TextRuleName = keyof typeof TEXT_RULES;

/** Why `text` breaks `rule`, or undefined when it fits: names the first character that is not allowed. */
export function findTextViolation(text: string, rule: TextRule): { kind: 'uppercase' | 'character'; codePoint: number } | { kind: 'shape' } | undefined {
  for (const char of text) {
    if (rule.allowed.test(char)) continue;
    const codePoint = char.codePointAt(0) ?? 0;
    const uppercase = rule.lowercase && /^[A-Z]$/.test(char);
    return { kind: uppercase ? 'uppercase' : 'character', codePoint };
  }
  return rule.test(text) ? undefined : { kind: 'shape' };
}
