/**
 * Collects validation problems for one registry document. Every `read*` method checks one value at
 * a JSON path and returns it typed when it is valid, or records a problem and returns undefined, so
 * validation goes on past the first problem and reports them all.
 */
import type { DocumentName, RegistryProblem } from './model.js';
import { describeCharacter, describeValue } from './describe-value.js';
import { findTextViolation, TEXT_RULES, type TextRuleName } from './text-rules.js';

/** Whether a missing value is a problem. An optional value may also be `null` (jq's "absent"). */
export interface ReadOptions {
  required?: boolean;
}

/** True when an optional value is absent: undefined, or null as jq writes for a missing field. */
function isAbsent(value: unknown, options: ReadOptions): boolean {
  return value === undefined || (value === null && !options.required);
}

/** Problem collector and typed reader for one document. */
export class DocumentChecker {
  constructor(
    readonly document: DocumentName,
    readonly origin: string,
    private readonly problems: RegistryProblem[],
  ) {}

  /** Record a problem at `path`; `message` says what is wrong and what is expected. */
  report(path: string, message: string): void {
    this.problems.push({ document: this.document, origin: this.origin, path, message });
  }

  /** Record a problem that starts by showing the bad value. */
  reportValue(path: string, value: unknown, message: string): void {
    this.report(path, `${describeValue(value)} ${message}`);
  }

  /** A plain object (not an array, not null), or undefined after recording a problem. */
  readObject(path: string, value: unknown, expected: string, options: ReadOptions = {}): Record<string, unknown> | undefined {
    if (isAbsent(value, options)) return this.reportMissing(path, expected, options);
    if (typeof value === 'object' && value !== null && !Array.isArray(value)) return value as Record<string, unknown>;
    this.reportValue(path, value, `must be an object (${expected})`);
    return undefined;
  }

  /** An array, or undefined after recording a problem. */
  readArray(path: string, value: unknown, expected: string, options: ReadOptions = {}): unknown[] | undefined {
    if (isAbsent(value, options)) return this.reportMissing(path, expected, options);
    if (Array.isArray(value)) return value;
    this.reportValue(path, value, `must be an array (${expected})`);
    return undefined;
  }

  /** A string that follows one of TEXT_RULES, or undefined after recording a problem. */
  readText(path: string, value: unknown, ruleName: TextRuleName, options: ReadOptions = {}): string | undefined {
    const rule = TEXT_RULES[ruleName];
    if (isAbsent(value, options)) return this.reportMissing(path, `${rule.noun}: ${rule.expected}`, options);
    if (typeof value !== 'string') {
      this.reportValue(path, value, `must be a string (${rule.noun}: ${rule.expected})`);
      return undefined;
    }
    const violation = findTextViolation(value, rule);
    if (violation === undefined) return value;
    if (violation.kind === 'uppercase') {
      this.reportValue(path, value, `contains uppercase ${JSON.stringify(String.fromCodePoint(violation.codePoint))}; use lowercase`);
    } else if (violation.kind === 'character') {
      this.reportValue(path, value, `contains ${describeCharacter(violation.codePoint)}, which is not allowed in ${rule.noun} (${rule.expected})`);
    } else {
      this.reportValue(path, value, `is not ${rule.noun} (${rule.expected})`);
    }
    return undefined;
  }

  /** A TCP port (integer 1-65535), or undefined after recording a problem. */
  readPort(path: string, value: unknown, options: ReadOptions = {}): number | undefined {
    if (isAbsent(value, options)) return this.reportMissing(path, 'a port (1-65535)', options);
    if (typeof value !== 'number') {
      this.reportValue(path, value, 'must be a number (a port 1-65535)');
      return undefined;
    }
    if (Number.isInteger(value) && value >= 1 && value <= 65535) return value;
    this.reportValue(path, value, 'is not a port (1-65535)');
    return undefined;
  }

  /** A boolean, or undefined after recording a problem. */
  readBoolean(path: string, value: unknown, options: ReadOptions = {}): boolean | undefined {
    if (isAbsent(value, options)) return this.reportMissing(path, 'true or false', options);
    if (typeof value === 'boolean') return value;
    this.reportValue(path, value, 'must be a boolean (true or false)');
    return undefined;
  }

  /** One of a fixed set of strings, or undefined after recording a problem. */
  readChoice<T extends string>(path: string, value: unknown, choices: readonly T[], options: ReadOptions = {}): T | undefined {
    const expected = choices.map((c) => JSON.stringify(c)).join(' or ');
    if (isAbsent(value, options)) return this.reportMissing(path, expected, options);
    if (typeof value !== 'string') {
      this.reportValue(path, value, `must be a string (${expected})`);
      return undefined;
    }
    if ((choices as readonly string[]).includes(value)) return value as T;
    this.reportValue(path, value, `is not supported; use ${expected}`);
    return undefined;
  }

  /** Record "is missing" when required; either way there is no value. */
  private reportMissing(path: string, expected: string, options: ReadOptions): undefined {
    if (options.required) this.report(path, `is missing; expected ${expected}`);
    return undefined;
  }
}
