/**
 * The daemon's bearer token: `http.tokenFile` names a file holding one token (RFC 6750 token
 * characters, a trailing newline allowed). The daemon guards its HTTP API with it; every client of
 * that API on the control plane (`courier reconcile`, the delegated push/verify/plan, `courier
 * check`) reads it from the same config the same way, so they can never disagree on the token.
 */
import { readFile } from 'node:fs/promises';
import { CourierError } from '../errors.js';

/** RFC 6750 `b64token`: what can travel in `Authorization: Bearer …` unquoted. */
const TOKEN = /^[A-Za-z0-9\-._~+/]+=*$/;

/** Shortest token accepted: 16 characters (`openssl rand -hex 32` gives 64). */
const MIN_LENGTH = 16;

/** The token in `http.tokenFile`, or undefined when the key is unset; an unreadable, empty or malformed file is CONFIG_INVALID. */
export async function readHttpToken(http: { tokenFile?: string }): Promise<string | undefined> {
  const file = http.tokenFile;
  if (file === undefined) return undefined;
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    throw new CourierError('CONFIG_INVALID', `http.tokenFile ${file}: cannot read the token file (${code}); create it with \`openssl rand -hex 32 > ${file}\` or remove http.tokenFile`, { key: 'http.tokenFile', file }, { cause: err });
  }
  const token = text.replace(/\r?\n$/, '');
  if (token.length === 0) {
    throw new CourierError('CONFIG_INVALID', `http.tokenFile ${file}: the file is empty; write a token into it (\`openssl rand -hex 32 > ${file}\`)`, { key: 'http.tokenFile', file });
  }
  // never quote the token itself in a message: it is a secret
  if (!TOKEN.test(token)) {
    throw new CourierError('CONFIG_INVALID', `http.tokenFile ${file}: the token holds characters a bearer token cannot carry (whitespace, quotes, several lines, …); use letters, digits and - . _ ~ + / only (\`openssl rand -hex 32\`)`, { key: 'http.tokenFile', file });
  }
  if (token.length < MIN_LENGTH) {
    throw new CourierError('CONFIG_INVALID', `http.tokenFile ${file}: the token is ${token.length} characters; use at least ${MIN_LENGTH} (\`openssl rand -hex 32\`)`, { key: 'http.tokenFile', file });
  }
  return token;
}
