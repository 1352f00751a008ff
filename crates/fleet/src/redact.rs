//! Removing the password of a database URL from any text.

/// The URL with its password (in `user:password@` or in a `password=` query
/// parameter) replaced by `***`.
pub(crate) fn redact_url(url: &str) -> String {
    redact_text(url, url)
}

/// `text` with every occurrence of the password of `url` replaced by `***`,
/// in its written and its percent-decoded form.
pub(crate) fn redact_text(text: &str, url: &str) -> String {
    let mut out = text.to_owned();
    for secret in passwords(url) {
        if secret.is_empty() {
            continue;
        }
        out = out.replace(&secret, "***");
        let decoded = percent_decode(&secret);
        if !decoded.is_empty() && decoded != secret {
            out = out.replace(&decoded, "***");
        }
    }
    out
}

/// The passwords written in `url`: the one of its user info, and the values of
/// its `password` query parameters.
fn passwords(url: &str) -> Vec<String> {
    let mut found = Vec::new();
    let rest = url.split_once("://").map_or(url, |(_, rest)| rest);
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    if let Some((user_info, _host)) = authority.rsplit_once('@')
        && let Some((_user, password)) = user_info.split_once(':')
    {
        found.push(password.to_owned());
    }
    if let Some((_, query)) = rest.split_once('?') {
        let query = query.split('#').next().unwrap_or_default();
        for pair in query.split('&') {
            if let Some((key, value)) = pair.split_once('=')
                && key.eq_ignore_ascii_case("password")
            {
                found.push(value.to_owned());
            }
        }
    }
    found
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
    fn user_info_password_is_hidden() {
        let url = "postgres://alice:s3cr%40t@db.example:5432/app";
        assert_eq!(redact_url(url), "postgres://alice:***@db.example:5432/app");
        assert_eq!(
            redact_text("failed for s3cr@t and s3cr%40t", url),
            "failed for *** and ***"
        );
    }

    #[test]
    fn query_password_is_hidden() {
        let url = "postgres://db/app?user=bob&password=hunter22&sslmode=disable";
        assert_eq!(
            redact_url(url),
            "postgres://db/app?user=bob&password=***&sslmode=disable"
        );
    }

    #[test]
    fn urls_without_password_are_unchanged() {
        for url in [
            "postgres://postgres@127.0.0.1/x",
            "postgres://h/x",
            "not a url",
            "",
        ] {
            assert_eq!(redact_url(url), url);
        }
    }
}
