//! Removing the password of a URL (a broker, database or cache URL) from the URL
//! itself and from any text that may quote it, such as a library's error message.

/// `url` with its password replaced by `***`: the one of `user:password@`, and
/// the value of any `password=` query parameter. Nothing else changes.
///
/// ```
/// use cloudrec_types::redact;
///
/// assert_eq!(redact::url("amqp://bob:hunter2@broker:5672/%2f"), "amqp://bob:***@broker:5672/%2f");
/// assert_eq!(redact::url("postgres://db/app?password=pw&x=1"), "postgres://db/app?password=***&x=1");
/// ```
pub fn url(url: &str) -> String {
    let mut out = String::with_capacity(url.len());
    let mut written = 0;
    for (start, end) in password_spans(url) {
        out.push_str(&url[written..start]);
        out.push_str("***");
        written = end;
    }
    out.push_str(&url[written..]);
    out
}

/// `text` with every occurrence of the password of `url` replaced by `***`, in
/// its written and its percent-decoded form.
pub fn text(text: &str, url: &str) -> String {
    let mut out = text.to_owned();
    for (start, end) in password_spans(url) {
        let secret = &url[start..end];
        out = out.replace(secret, "***");
        let decoded = percent_decode(secret);
        if !decoded.is_empty() && decoded != secret {
            out = out.replace(&decoded, "***");
        }
    }
    out
}

/// The byte ranges of the non-empty passwords written in `url`, in order: the one
/// of its user info, then the values of its `password` query parameters.
fn password_spans(url: &str) -> Vec<(usize, usize)> {
    let mut spans = Vec::new();
    let rest_at = url.find("://").map_or(0, |at| at + 3);
    let rest = &url[rest_at..];
    let authority = &rest[..rest.find(['/', '?', '#']).unwrap_or(rest.len())];
    if let Some(at) = authority.rfind('@')
        && let Some(colon) = authority[..at].find(':')
    {
        spans.push((rest_at + colon + 1, rest_at + at));
    }
    if let Some(question) = rest.find('?') {
        let query_at = rest_at + question + 1;
        let query = &url[query_at..];
        let query = &query[..query.find('#').unwrap_or(query.len())];
        let mut pair_at = query_at;
        for pair in query.split('&') {
            if let Some(equals) = pair.find('=')
                && pair[..equals].eq_ignore_ascii_case("password")
            {
                spans.push((pair_at + equals + 1, pair_at + pair.len()));
            }
            pair_at += pair.len() + 1;
        }
    }
    spans.retain(|(start, end)| start < end);
    spans
}

/// Decodes `%XX` escapes; anything malformed is kept as written.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(byte) = u8::from_str_radix(hex, 16)
        {
            out.push(byte);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_info_password_is_hidden_written_and_decoded() {
        let address = "postgres://alice:s3cr%40t@db.example:5432/app";
        assert_eq!(url(address), "postgres://alice:***@db.example:5432/app");
        assert_eq!(
            text("failed for s3cr@t and s3cr%40t", address),
            "failed for *** and ***"
        );
    }

    #[test]
    fn query_password_is_hidden() {
        let address = "postgres://db/app?user=bob&password=hunter22&sslmode=disable";
        assert_eq!(
            url(address),
            "postgres://db/app?user=bob&password=***&sslmode=disable"
        );
    }

    #[test]
    fn a_short_password_leaves_the_rest_of_the_url_alone() {
        assert_eq!(url("amqp://a:a@a.example/a"), "amqp://a:***@a.example/a");
    }

    #[test]
    fn urls_without_password_are_unchanged() {
        for address in [
            "postgres://postgres@127.0.0.1/x",
            "postgres://h/x",
            "amqp://u:@h/",
            "not a url",
            "",
        ] {
            assert_eq!(url(address), address);
            assert_eq!(text("some text", address), "some text");
        }
    }
}
