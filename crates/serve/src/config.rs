//! The `--config` file: the App IDs to record on, each with its credentials'
//! names, rate, task limit and host.

use serde::Deserialize;

/// One `[[app]]` of the config file. Secrets are never in the file: it names
/// the environment variable that holds each.
#[derive(Clone, Debug, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppEntry {
    /// The App ID.
    pub id: String,
    /// The RESTful API customer id.
    pub customer_id: String,
    /// The environment variable holding the customer secret.
    pub customer_secret_env: String,
    /// Requests per second the App ID may send (default 10).
    #[serde(default)]
    pub rate: Option<u32>,
    /// Tasks the App ID may run at once (default 50).
    #[serde(default)]
    pub task_limit: Option<usize>,
    /// The service region to call first, e.g. `eu-west-1`.
    #[serde(default)]
    pub region: Option<String>,
    /// A base URL to send every call to instead (an emulator, a proxy).
    #[serde(default)]
    pub base_url: Option<String>,
    /// The environment variable holding this App ID's NCS secret, if any.
    #[serde(default)]
    pub ncs_secret_env: Option<String>,
}

/// The whole config file.
#[derive(Clone, Debug, Default, PartialEq, Eq, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConfigFile {
    /// The App IDs, the first being the default of requests that name none.
    #[serde(default)]
    pub app: Vec<AppEntry>,
}

/// A config file that cannot be used, in one line naming the key.
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("invalid config {path}{at}: {message}")]
pub struct ConfigError {
    path: String,
    at: String,
    message: String,
}

impl ConfigError {
    /// An error in `path` at `key` (empty when it concerns the whole file).
    pub fn new(path: &str, key: &str, message: impl Into<String>) -> Self {
        Self {
            path: path.to_owned(),
            at: if key.is_empty() {
                String::new()
            } else {
                format!(", key `{key}`")
            },
            message: message.into(),
        }
    }
}

impl ConfigFile {
    /// Parses `text`, read from `path`, and checks every entry.
    pub fn parse(text: &str, path: &str) -> Result<Self, ConfigError> {
        let file: Self = toml::from_str(text).map_err(|error| {
            let (line, key) = error
                .span()
                .map(|span| {
                    let line = text[..span.start.min(text.len())].matches('\n').count() + 1;
                    let key = text
                        .lines()
                        .nth(line - 1)
                        .and_then(|l| l.split_once('='))
                        .map(|(key, _)| key.trim().to_owned())
                        .unwrap_or_default();
                    (line, key)
                })
                .unwrap_or((0, String::new()));
            let message = error.message().replace('\n', " ");
            let message = if line > 0 {
                format!("line {line}: {message}")
            } else {
                message
            };
            ConfigError::new(path, &key, message)
        })?;
        for (index, app) in file.app.iter().enumerate() {
            let at = |field: &str| format!("app[{index}].{field}");
            if app.id.is_empty() {
                return Err(ConfigError::new(path, &at("id"), "must not be empty"));
            }
            if app.rate == Some(0) {
                return Err(ConfigError::new(path, &at("rate"), "must be at least 1"));
            }
            if app.task_limit == Some(0) {
                return Err(ConfigError::new(
                    path,
                    &at("task_limit"),
                    "must be at least 1",
                ));
            }
            if app.region.is_some() && app.base_url.is_some() {
                return Err(ConfigError::new(
                    path,
                    &at("base_url"),
                    "give region or base_url, not both",
                ));
            }
            if file.app[..index].iter().any(|other| other.id == app.id) {
                return Err(ConfigError::new(
                    path,
                    &at("id"),
                    "this App ID is listed twice",
                ));
            }
        }
        Ok(file)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_file_with_two_apps_parses() {
        let file = ConfigFile::parse(
            "[[app]]\nid = \"a\"\ncustomer_id = \"c\"\ncustomer_secret_env = \"S_A\"\nrate = 5\n\n\
             [[app]]\nid = \"b\"\ncustomer_id = \"c\"\ncustomer_secret_env = \"S_B\"\nbase_url = \"http://127.0.0.1:1\"\n",
            "c.toml",
        )
        .unwrap();
        assert_eq!(file.app.len(), 2);
        assert_eq!(file.app[0].rate, Some(5));
    }

    #[test]
    fn each_mistake_names_its_key() {
        let cases = [
            (
                "[[app]]\nid = \"a\"\ncustomer_id = \"c\"\ncustomer_secret_env = \"S\"\nrate = \"fast\"\n",
                "`rate`",
            ),
            (
                "[[app]]\nid = \"a\"\ncustomer_id = \"c\"\ncustomer_secret_env = \"S\"\nsecret = \"x\"\n",
                "`secret`",
            ),
            (
                "[[app]]\nid = \"a\"\ncustomer_id = \"c\"\ncustomer_secret_env = \"S\"\nrate = 0\n",
                "`app[0].rate`",
            ),
            (
                "[[app]]\nid = \"\"\ncustomer_id = \"c\"\ncustomer_secret_env = \"S\"\n",
                "`app[0].id`",
            ),
        ];
        for (text, key) in cases {
            let error = ConfigFile::parse(text, "c.toml").unwrap_err().to_string();
            assert!(error.contains(key), "{error}");
            assert!(!error.contains('\n'), "{error}");
        }
    }
}
