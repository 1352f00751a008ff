//! Removing secrets before something is shown or stored: the password of a URL
//! (a broker, database or cache URL) from the URL itself and from any text that
//! may quote it, such as a library's error message; and the credentials of a
//! request body.

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

/// Whether a JSON member of this name may hold a credential: storage
/// `accessKey`/`secretKey`/`stsToken`, an RTC `token`, an encryption `secret`
/// or `salt`, an extension's API key, any password. Unknown members are judged
/// by the same words, so that a field the types do not know stays hidden too.
pub fn is_secret_member(name: &str) -> bool {
    let name = name.to_ascii_lowercase();
    name.ends_with("key")
        || [
            "secret",
            "token",
            "password",
            "salt",
            "credential",
            "signature",
        ]
        .iter()
        .any(|word| name.contains(word))
}

/// Replaces, anywhere in `value`, every member that [`is_secret_member`]
/// names with the mask `***` (a request body echoed by an API or kept in a
/// store without its credentials).
pub fn json(value: &mut serde_json::Value) {
    match value {
        serde_json::Value::Object(members) => {
            for (name, member) in members.iter_mut() {
                if is_secret_member(name) && !member.is_null() {
                    *member = serde_json::Value::String(crate::Secret::MASK.to_owned());
                } else {
                    json(member);
                }
            }
        }
        serde_json::Value::Array(items) => items.iter_mut().for_each(json),
        _ => {}
    }
}

/// serde's message without its trailing position and without quoting the
/// offending value, which may be a credential: `invalid type: a string where
/// another type is expected`.
pub fn serde_message(error: &serde_json::Error) -> String {
    let text = error.to_string();
    let text = text
        .rsplit_once(" at line ")
        .map_or(text.as_str(), |(head, _)| head);
    if let Some((head, _)) = text.split_once("invalid type: string \"") {
        return format!("{head}invalid type: a string where another type is expected");
    }
    if let Some((head, _)) = text.split_once("invalid value: string \"") {
        return format!("{head}invalid value: a string that is not allowed here");
    }
    text.to_owned()
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

    #[test]
    fn a_request_body_loses_every_credential_and_keeps_the_rest() {
        let mut body = serde_json::json!({
            "token": "rtc-token",
            "recordingConfig": {"channelType": 0},
            "storageConfig": {"vendor": 1, "bucket": "b", "accessKey": "AK", "secretKey": "SK",
                              "stsToken": "STS", "fileNamePrefix": ["a"]},
            "extensionServiceConfig": {"apiKey": "API", "services": [{"param": {"password": "PW"}}]},
            "encryption": {"secret": "S", "salt": "SALT"},
            "future": {"newServiceKey": "X"}
        });
        json(&mut body);
        let text = body.to_string();
        for secret in [
            "rtc-token",
            "\"AK\"",
            "\"SK\"",
            "STS",
            "API",
            "PW",
            "\"S\"",
            "SALT",
            "\"X\"",
        ] {
            assert!(!text.contains(secret), "{secret} in {text}");
        }
        assert_eq!(body["storageConfig"]["bucket"], "b");
        assert_eq!(body["storageConfig"]["fileNamePrefix"][0], "a");
        assert_eq!(body["recordingConfig"]["channelType"], 0);
        assert_eq!(body["storageConfig"]["secretKey"], "***");
    }
}
