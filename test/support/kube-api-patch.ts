/** JSON merge patch and JSON patch as the Kubernetes API server applies them to an object. */
import { isObject, KubeApiError, stableJson } from './kube-api-store.js';

/** RFC 7386 JSON merge patch (strategic merge patch is treated the same way by the test server). */
export function applyMergePatch(target: unknown, patch: unknown): unknown {
  if (!isObject(patch)) return patch;
  const out: Record<string, unknown> = isObject(target) ? target : {};
  for (const [k, v] of Object.entries(patch)) {
    if (v === null) delete out[k];
    else out[k] = applyMergePatch(out[k], v);
  }
  return out;
}

/** RFC 6902 JSON patch: add, remove, replace, move, copy, test. */
export function applyJsonPatch(doc: unknown, ops: unknown): unknown {
  if (!Array.isArray(ops)) throw new KubeApiError(400, 'BadRequest', 'json patch must be an array of operations');
  let root = doc;
  for (const raw of ops) {
    if (!isObject(raw) || typeof raw.op !== 'string' || typeof raw.path !== 'string') throw new KubeApiError(400, 'BadRequest', 'invalid json patch operation');
    const op = raw as { op: string; path: string; from?: string; value?: unknown };
    switch (op.op) {
      case 'add':
        root = setPointer(root, op.path, op.value, 'add');
        break;
      case 'replace':
        getPointer(root, op.path);
        root = setPointer(root, op.path, op.value, 'replace');
        break;
      case 'remove':
        root = removePointer(root, op.path);
        break;
      case 'move': {
        const value = getPointer(root, op.from ?? '');
        root = setPointer(removePointer(root, op.from ?? ''), op.path, value, 'add');
        break;
      }
      case 'copy':
        root = setPointer(root, op.path, structuredClone(getPointer(root, op.from ?? '')), 'add');
        break;
      case 'test':
        if (stableJson(getPointer(root, op.path)) !== stableJson(op.value)) throw new KubeApiError(422, 'Invalid', `the server rejected our request due to an error in our request: testing value ${op.path} failed`);
        break;
      default:
        throw new KubeApiError(400, 'BadRequest', `unexpected json patch operation "${op.op}"`);
    }
  }
  return root;
}

function pointerTokens(pointer: string): string[] {
  if (pointer === '') return [];
  if (!pointer.startsWith('/')) throw new KubeApiError(400, 'BadRequest', `invalid json pointer "${pointer}"`);
  return pointer.slice(1).split('/').map((t) => t.replace(/~1/g, '/').replace(/~0/g, '~'));
}

function joinPointer(tokens: string[]): string {
  return tokens.map((t) => `/${t.replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

function getPointer(root: unknown, pointer: string): unknown {
  let node = root;
  for (const t of pointerTokens(pointer)) {
    if (Array.isArray(node)) node = node[Number(t)];
    else if (isObject(node) && t in node) node = node[t];
    else throw new KubeApiError(422, 'Invalid', `the server rejected our request: json patch path ${pointer} does not exist`);
    if (node === undefined) throw new KubeApiError(422, 'Invalid', `the server rejected our request: json patch path ${pointer} does not exist`);
  }
  return node;
}

function setPointer(root: unknown, pointer: string, value: unknown, mode: 'add' | 'replace'): unknown {
  const tokens = pointerTokens(pointer);
  if (tokens.length === 0) return value;
  const parent = getPointer(root, joinPointer(tokens.slice(0, -1)));
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) {
    const index = last === '-' ? parent.length : Number(last);
    if (mode === 'add') parent.splice(index, 0, value);
    else parent[index] = value;
  } else if (isObject(parent)) {
    parent[last] = value;
  } else {
    throw new KubeApiError(422, 'Invalid', `the server rejected our request: json patch path ${pointer} has no parent object`);
  }
  return root;
}

function removePointer(root: unknown, pointer: string): unknown {
  const tokens = pointerTokens(pointer);
  getPointer(root, pointer);
  const parent = getPointer(root, joinPointer(tokens.slice(0, -1)));
  const last = tokens[tokens.length - 1]!;
  if (Array.isArray(parent)) parent.splice(Number(last), 1);
  else if (isObject(parent)) delete parent[last];
  return root;
}
