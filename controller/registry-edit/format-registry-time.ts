/**
 * MyNodeOne's two timestamp spellings. multi-domain-registry.sh and service-registry.sh stamp
 * `registered` / `updated` with jq's `now | todate` (UTC to the second, `Z`); node-registry-manager.sh
 * stamps node `registered` and `metadata.last_updated` with `date -Iseconds` (`+00:00` on a UTC host).
 */

/** jq's `now | todate`: `2026-03-04T05:06:07Z`. */
export function formatJqTime(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `date -Iseconds` in UTC: `2026-03-04T05:06:07+00:00`. */
export function formatIsoSeconds(now: Date): string {
  return now.toISOString().replace(/\.\d{3}Z$/, '+00:00');
}
