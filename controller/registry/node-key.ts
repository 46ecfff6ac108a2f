/**
 * A node's store key: the one safe, stable spelling of its name used for the store folder
 * `nodes/<key>/` and the ref `refs/nodes/<key>`. Names are kept as written everywhere else (the
 * registry, output, status, logs); the key is the name in lowercase, so `Vinays-MacBook-Pro` is
 * stored under `nodes/vinays-macbook-pro/`. Two names equal but for case would share a key, so the
 * registry refuses them as ambiguous. A valid node name (see TEXT_RULES.nodeName) gives a key that
 * git accepts as a ref component (git-check-ref-format): only `a-z0-9._-`, no leading or trailing
 * `.`, no `..`, no `.lock` suffix, one path segment.
 */

/** A store key: lowercase node-name characters, starting with a letter or digit, not ending with `.`, no `..`, no `.lock` suffix. */
const NODE_KEY = /^(?!.*\.\.)(?!.*\.lock$)(?!.*\.$)[a-z0-9][a-z0-9._-]{0,62}$/;

/** The store key of a node name: the name in ASCII lowercase (names are ASCII by validation). */
export function nodeKey(name: string): string {
  return name.replace(/[A-Z]/g, (letter) => letter.toLowerCase());
}

/** True when `key` is a store key a valid node name can have (safe as a tree entry and a ref component). */
export function isNodeKey(key: string): boolean {
  return NODE_KEY.test(key);
}

/** True when `name` is a node name whose key is safe in the store (what the registry accepts). */
export function hasNodeKey(name: string): boolean {
  return isNodeKey(nodeKey(name));
}
