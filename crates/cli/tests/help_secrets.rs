//! No `--help` of any subcommand shows the value of an environment variable
//! that can hold a secret.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use common::{cloudrec, run};

const LIMIT: Duration = Duration::from_secs(60);

/// Every variable that can hold a secret, set to a value that carries one.
const SECRET_VARS: [(&str, &str); 9] = [
    ("CLOUDREC_AMQP_URL", "amqp://u:amqp-PASSWORD-1@h/"),
    ("CLOUDREC_CUSTOMER_SECRET", "customer-SECRET-2"),
    ("CLOUDREC_CUSTOMER_ID", "customer-ID-3"),
    ("CLOUDREC_TOKEN", "rtc-TOKEN-4"),
    ("CLOUDREC_BASE_URL", "https://u:proxy-PASSWORD-5@h"),
    ("CLOUDREC_NCS_SECRET", "ncs-SECRET-6"),
    ("CLOUDREC_API_TOKEN", "api-TOKEN-7"),
    ("CLOUDREC_DATABASE_URL", "postgres://u:db-PASSWORD-8@h/db"),
    ("CLOUDREC_REDIS_URL", "redis://u:redis-PASSWORD-9@h/"),
];

/// Variables whose values are not secret and may show.
const PLAIN_VARS: [&str; 2] = ["CLOUDREC_APP_ID", "CLOUDREC_REGION"];

fn help(path: &[String]) -> String {
    let mut command = cloudrec();
    for (key, value) in SECRET_VARS {
        command.env(key, value);
    }
    command.args(path).arg("--help");
    let result = run(command, LIMIT);
    assert_eq!(result.code, Some(0), "{path:?}: {}", result.all());
    result.stdout
}

/// The subcommand names listed under `Commands:` in a help text.
fn subcommands(text: &str) -> Vec<String> {
    text.split("Commands:\n")
        .nth(1)
        .map(|rest| {
            rest.lines()
                .take_while(|line| line.starts_with("  "))
                .filter_map(|line| line.split_whitespace().next())
                .filter(|name| *name != "help")
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

#[test]
fn no_help_shows_a_secret_from_the_environment() {
    let mut pending = vec![Vec::<String>::new()];
    let mut seen_vars = BTreeSet::new();
    let mut visited = 0;
    while let Some(path) = pending.pop() {
        let text = help(&path);
        visited += 1;
        for (_, value) in SECRET_VARS {
            assert!(
                !text.contains(value),
                "`{path:?} --help` shows {value}:\n{text}"
            );
        }
        for piece in text.split("[env: ").skip(1) {
            let name: String = piece
                .chars()
                .take_while(|c| c.is_ascii_uppercase() || *c == '_')
                .collect();
            seen_vars.insert(name);
        }
        for name in subcommands(&text) {
            let mut next = path.clone();
            next.push(name);
            pending.push(next);
        }
    }
    assert!(visited > 10, "only {visited} help texts found");
    // Every variable a help names is known here as secret or plain, so that a
    // new one is classified when it is added.
    for name in &seen_vars {
        assert!(
            SECRET_VARS.iter().any(|(key, _)| key == name) || PLAIN_VARS.contains(&name.as_str()),
            "{name} is neither a secret nor a plain variable of this test"
        );
    }
    for (key, _) in SECRET_VARS {
        assert!(seen_vars.contains(key), "no help names {key}");
    }
}
