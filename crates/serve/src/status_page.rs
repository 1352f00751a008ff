//! `GET /`: a server-rendered page of the recordings, refreshing itself.

use std::fmt::Write as _;

use crate::recording::Recording;

/// How often the page reloads itself, in seconds.
const REFRESH_SECONDS: u32 = 2;

/// `text` safe inside HTML text and attribute values.
fn escape(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// The page for `recordings`, served by `worker`.
pub(crate) fn render(worker: &str, live: usize, recordings: &[Recording]) -> String {
    let mut rows = String::new();
    for r in recordings {
        let _ = writeln!(
            rows,
            "<tr data-id=\"{id}\" data-state=\"{state}\"><td><code>{id}</code></td><td>{mode}</td>\
             <td>{cname}</td><td>{uid}</td><td class=\"state {state}\">{state}</td><td>{owner}</td>\
             <td>{files}</td><td>{reason}</td><td>{updated}</td></tr>",
            id = r.id,
            mode = escape(&r.mode),
            cname = escape(&r.cname),
            uid = escape(&r.uid),
            state = escape(&r.state),
            owner = escape(r.owner.as_deref().unwrap_or("")),
            files = escape(&r.files.join(", ")),
            reason = escape(r.reason.as_deref().unwrap_or("")),
            updated = escape(&r.updated_at),
        );
    }
    if recordings.is_empty() {
        rows.push_str(
            "<tr><td colspan=\"9\">No recordings yet: POST /v1/recordings starts one.</td></tr>\n",
        );
    }
    format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
<meta http-equiv=\"refresh\" content=\"{REFRESH_SECONDS}\">\
<title>cloudrec: recordings</title>\
<style>body{{font-family:system-ui,sans-serif;margin:2em}}table{{border-collapse:collapse;width:100%}}\
td,th{{border-bottom:1px solid #ddd;padding:.3em .6em;text-align:left;font-size:.9em}}\
.running{{color:#080;font-weight:bold}}.failed,.lost{{color:#b00;font-weight:bold}}\
.recovering,.stopping{{color:#a60}}</style></head>\n<body><h1>cloudrec recordings</h1>\
<p>Worker <code>{worker}</code> supervises <span id=\"live\">{live}</span> recording(s). \
This page refreshes every {REFRESH_SECONDS} s. API: <a href=\"/openapi.json\">/openapi.json</a>, \
metrics: <a href=\"/metrics\">/metrics</a>.</p>\n<table id=\"recordings\"><thead><tr><th>id</th><th>mode</th>\
<th>channel</th><th>uid</th><th>state</th><th>owner</th><th>files</th><th>last reason</th><th>updated</th></tr></thead>\
<tbody>\n{rows}</tbody></table></body></html>\n",
        worker = escape(worker),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markup_in_a_channel_name_is_shown_as_text() {
        assert_eq!(escape("<b>&\"'"), "&lt;b&gt;&amp;&quot;&#39;");
        let page = render("w<1>", 0, &[]);
        assert!(page.contains("w&lt;1&gt;"));
        assert!(page.contains("No recordings yet"));
    }
}
