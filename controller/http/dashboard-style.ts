/**
 * The dashboard's base stylesheet (header, banners, node groups and cards, the revisions table);
 * the history panel's rules are in dashboard-history.ts. Inline in the page, allowed by its hash.
 */
export const BASE_STYLE = `
:root { --bg: #f6f7f9; --card: #fff; --text: #1d2330; --muted: #687385; --line: #e3e6eb;
  --green: #1f9d55; --amber: #d68a00; --red: #d33a2c; --green-bg: #e6f6ec; --amber-bg: #fdf3e0; --red-bg: #fbe9e7; }
@media (prefers-color-scheme: dark) {
  :root { --bg: #14171c; --card: #1c2027; --text: #e3e6eb; --muted: #9aa3b2; --line: #2c323c;
    --green-bg: #15301f; --amber-bg: #33280f; --red-bg: #3a1a17; }
}
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.45 system-ui, -apple-system, "Segoe UI", Roboto, sans-serif; background: var(--bg); color: var(--text); }
header { display: flex; flex-wrap: wrap; align-items: baseline; gap: 8px 24px; padding: 16px 24px; background: var(--card); border-bottom: 1px solid var(--line); }
h1 { margin: 0; font-size: 20px; letter-spacing: .02em; }
h2 { font-size: 15px; margin: 24px 0 8px; }
main { padding: 0 24px 32px; max-width: 1280px; }
.meta { color: var(--muted); }
.meta b, code { font-family: ui-monospace, SFMono-Regular, Menlo, monospace; font-weight: 600; color: var(--text); }
.spacer { flex: 1; }
#connection::before { content: "\\25CF\\00A0"; }
#connection.live { color: var(--green); } #connection.polling { color: var(--amber); } #connection.offline { color: var(--red); }
button { font: inherit; padding: 4px 12px; border-radius: 6px; border: 1px solid var(--line); background: var(--bg); color: var(--text); cursor: pointer; }
.banner { margin: 16px 0 0; padding: 10px 14px; border-radius: 8px; border: 1px solid; }
.banner.valid { background: var(--green-bg); border-color: var(--green); }
.banner.invalid { background: var(--red-bg); border-color: var(--red); color: var(--text); }
.banner.invalid strong { color: var(--red); }
.banner pre { margin: 6px 0 0; white-space: pre-wrap; font-size: 13px; }
.summary { display: flex; gap: 12px; margin-top: 16px; }
.summary span { padding: 4px 10px; border-radius: 999px; background: var(--card); border: 1px solid var(--line); }
table { width: 100%; table-layout: fixed; border-collapse: collapse; background: var(--card); border: 1px solid var(--line); border-radius: 8px; overflow: hidden; }
th, td { text-align: left; padding: 8px 12px; border-bottom: 1px solid var(--line); vertical-align: top; }
th { font-weight: 600; color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
tr:last-child td { border-bottom: 0; }
tr.node { border-left: 4px solid var(--line); }
tr.node[data-status="active"] { border-left-color: var(--green); }
tr.node[data-status="pending_sync"] { border-left-color: var(--amber); }
tr.node[data-status="error"] { border-left-color: var(--red); }
.badge { display: inline-block; white-space: nowrap; padding: 1px 8px; border-radius: 999px; font-size: 12px; font-weight: 600; }
.badge.active { background: var(--green-bg); color: var(--green); }
.badge.pending_sync { background: var(--amber-bg); color: var(--amber); }
.badge.error { background: var(--red-bg); color: var(--red); }
.behind { margin-left: 6px; font-size: 11px; font-weight: 600; color: var(--amber); text-transform: uppercase; }
td strong, td code, td.age { white-space: nowrap; overflow: hidden; text-overflow: ellipsis; }
.address, .drift, .attempt { display: block; color: var(--muted); font-size: 12px; }
.group col:nth-child(1) { width: 18%; } .group col:nth-child(2) { width: 11%; } .group col:nth-child(3) { width: 13%; }
.group col:nth-child(4) { width: 17%; } .group col:nth-child(5) { width: 8%; }
.revisions col:nth-child(1) { width: 18%; } .revisions col:nth-child(2) { width: 13%; } .revisions col:nth-child(3) { width: 11%; }
.error-text { color: var(--red); word-break: break-word; }
.empty { color: var(--muted); }
`;
