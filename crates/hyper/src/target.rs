use std::net::IpAddr;
use std::sync::{PoisonError, RwLock};

use http::Uri;
use http::uri::{Authority, Parts, PathAndQuery, Scheme};

/// How many distinct base URLs are kept parsed; a failover plan names a handful.
/// Beyond this, further base URLs are parsed on every request.
const KEPT: usize = 16;

/// The base URLs requests have been sent to, parsed and checked once, so that a
/// request only has its path checked before it is sent.
#[derive(Debug)]
pub(crate) struct Targets {
    allow_plain_http: bool,
    known: RwLock<Vec<Base>>,
}

/// A base URL that passed every check, split into what a request's URI takes.
#[derive(Debug)]
struct Base {
    text: Box<str>,
    scheme: Scheme,
    authority: Authority,
    /// The base URL's own path without its trailing `/` (usually empty), put in
    /// front of every request path, as a proxy may need.
    prefix: Box<str>,
}

impl Targets {
    pub(crate) fn new(allow_plain_http: bool) -> Self {
        Self {
            allow_plain_http,
            known: RwLock::new(Vec::new()),
        }
    }

    /// The URI of `path` (which starts with `/`) under `base_url`, or why it may
    /// not be sent.
    pub(crate) fn uri(&self, base_url: &str, path: String) -> Result<Uri, &'static str> {
        if !path.starts_with('/') {
            return Err("invalid url: the path must start with /");
        }
        let known = self.known.read().unwrap_or_else(PoisonError::into_inner);
        if let Some(base) = known.iter().find(|base| &*base.text == base_url) {
            return base.join(path);
        }
        drop(known);
        let base = self.check(base_url)?;
        let uri = base.join(path);
        let mut known = self.known.write().unwrap_or_else(PoisonError::into_inner);
        if known.len() < KEPT && !known.iter().any(|kept| kept.text == base.text) {
            known.push(base);
        }
        uri
    }

    fn check(&self, base_url: &str) -> Result<Base, &'static str> {
        const MALFORMED: &str = "invalid url: base_url must be like https://host[:port]";
        let uri: Uri = base_url.parse().map_err(|_| MALFORMED)?;
        let parts = uri.into_parts();
        let (Some(scheme), Some(authority)) = (parts.scheme, parts.authority) else {
            return Err(MALFORMED);
        };
        if authority.as_str().contains('@') {
            return Err(
                "credentials in the url refused: remove user:password@ and pass them to credentials()",
            );
        }
        if authority.host().is_empty() {
            return Err("invalid url: base_url has no host");
        }
        match scheme.as_str() {
            "https" => {}
            "http" if self.allow_plain_http || is_loopback(authority.host()) => {}
            "http" => {
                return Err(
                    "plain http refused for a non-loopback host: use https, or allow_plain_http(true) for a trusted network",
                );
            }
            _ => return Err("unsupported url scheme: use https"),
        }
        let prefix = match &parts.path_and_query {
            Some(path) if path.query().is_some() => {
                return Err("invalid url: base_url may not have a query");
            }
            Some(path) => path.path().trim_end_matches('/'),
            None => "",
        };
        Ok(Base {
            text: base_url.into(),
            scheme,
            authority,
            prefix: prefix.into(),
        })
    }
}

impl Base {
    /// The URI of `path` (which starts with `/`) under this base.
    fn join(&self, path: String) -> Result<Uri, &'static str> {
        let path_and_query = if self.prefix.is_empty() {
            PathAndQuery::try_from(path)
        } else {
            PathAndQuery::try_from(format!("{}{path}", self.prefix))
        }
        .map_err(|_| "invalid url: the path is not a valid url path")?;
        let mut parts = Parts::default();
        parts.scheme = Some(self.scheme.clone());
        parts.authority = Some(self.authority.clone());
        parts.path_and_query = Some(path_and_query);
        Uri::from_parts(parts).map_err(|_| "invalid url: the path is not a valid url path")
    }
}

/// Whether plain http to `host` stays on this machine.
fn is_loopback(host: &str) -> bool {
    let bare = host.trim_start_matches('[').trim_end_matches(']');
    match bare.parse::<IpAddr>() {
        Ok(ip) => ip.is_loopback(),
        Err(_) => bare.eq_ignore_ascii_case("localhost"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn uri(targets: &Targets, base_url: &str, path: &str) -> Result<String, &'static str> {
        targets
            .uri(base_url, path.to_owned())
            .map(|uri| uri.to_string())
    }

    #[test]
    fn a_request_uri_is_the_base_url_and_the_path() {
        let targets = Targets::new(false);
        for _ in 0..2 {
            assert_eq!(
                uri(&targets, "https://api.agora.io", "/v1/apps/a/x").unwrap(),
                "https://api.agora.io/v1/apps/a/x"
            );
            assert_eq!(
                uri(&targets, "http://127.0.0.1:8080/", "/v1").unwrap(),
                "http://127.0.0.1:8080/v1"
            );
            assert_eq!(
                uri(&targets, "https://proxy.example/agora/", "/v1").unwrap(),
                "https://proxy.example/agora/v1"
            );
        }
        assert_eq!(targets.known.read().unwrap().len(), 3);
    }

    #[test]
    fn bad_base_urls_and_paths_are_refused_and_not_kept() {
        let targets = Targets::new(false);
        let cases = [
            ("", "/v1", "invalid url"),
            ("not a url", "/v1", "invalid url"),
            ("ftp://127.0.0.1", "/v1", "unsupported url scheme"),
            ("https://a:b@api.agora.io", "/v1", "credentials in the url"),
            ("http://api.agora.io", "/v1", "plain http refused"),
            ("http://10.0.0.1:1", "/v1", "plain http refused"),
            ("https://api.agora.io/?x=1", "/v1", "may not have a query"),
            ("https://api.agora.io", "v1", "must start with /"),
            ("https://api.agora.io", "/v1 x", "not a valid url path"),
        ];
        for (base_url, path, expected) in cases {
            let error = uri(&targets, base_url, path).unwrap_err();
            assert!(error.contains(expected), "{base_url:?} {path:?}: {error}");
        }
        assert_eq!(targets.known.read().unwrap().len(), 1);
    }

    #[test]
    fn plain_http_anywhere_needs_the_opt_in() {
        let targets = Targets::new(true);
        assert_eq!(
            uri(&targets, "http://10.0.0.1:1", "/v1").unwrap(),
            "http://10.0.0.1:1/v1"
        );
    }

    #[test]
    fn only_a_bounded_number_of_base_urls_is_kept() {
        let targets = Targets::new(false);
        for port in 0..(KEPT + 5) {
            let base_url = format!("https://host{port}.example");
            assert!(uri(&targets, &base_url, "/v1").is_ok());
        }
        assert_eq!(targets.known.read().unwrap().len(), KEPT);
    }

    #[test]
    fn loopback_hosts_are_recognised() {
        for host in [
            "127.0.0.1",
            "127.8.9.10",
            "[::1]",
            "::1",
            "localhost",
            "LocalHost",
        ] {
            assert!(is_loopback(host), "{host}");
        }
        for host in [
            "10.0.0.1",
            "api.agora.io",
            "localhost.example",
            "[::2]",
            "0.0.0.0",
        ] {
            assert!(!is_loopback(host), "{host}");
        }
    }
}
