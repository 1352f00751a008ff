//! The exit codes are one list: the README, docs/cli.md and `cloudrec --help`
//! name the same codes, and the two documents say the same about each.

mod common;

use std::time::Duration;

use common::{cloudrec, run};

/// The rows of the `| code | meaning |` table in the Markdown file at `path`
/// (relative to the workspace root).
fn table(path: &str) -> Vec<(u16, String)> {
    let file = format!("{}/../../{path}", env!("CARGO_MANIFEST_DIR"));
    let text = std::fs::read_to_string(&file).unwrap();
    let start = text
        .find("| code | meaning |")
        .unwrap_or_else(|| panic!("no exit code table in {path}"));
    text[start..]
        .lines()
        .skip(2)
        .take_while(|line| line.starts_with('|'))
        .map(|line| {
            let cells: Vec<&str> = line.trim_matches('|').splitn(2, '|').collect();
            let code = cells[0].trim().parse().unwrap_or_else(|_| panic!("{line}"));
            (code, cells[1].trim().to_owned())
        })
        .collect()
}

/// The codes `cloudrec --help` lists after `Exit codes:`.
fn help_codes() -> Vec<u16> {
    let mut command = cloudrec();
    command.arg("--help");
    let result = run(command, Duration::from_secs(60));
    assert_eq!(result.code, Some(0), "{}", result.all());
    let list = result
        .stdout
        .split("Exit codes:\n")
        .nth(1)
        .expect("--help lists the exit codes");
    list.lines()
        .filter_map(|line| line.strip_prefix("  "))
        .filter_map(|line| line.split_whitespace().next())
        .filter_map(|word| word.parse().ok())
        .collect()
}

#[test]
fn readme_docs_and_help_give_the_same_exit_codes() {
    let readme = table("README.md");
    let docs = table("docs/cli.md");
    assert_eq!(readme, docs, "README.md and docs/cli.md disagree");
    let codes: Vec<u16> = readme.iter().map(|(code, _)| *code).collect();
    assert_eq!(codes, help_codes(), "`cloudrec --help` lists other codes");
    for code in [0, 10, 13, 130] {
        assert!(codes.contains(&code), "code {code} is not documented");
    }
    let ok = &readme[0].1;
    assert!(ok.contains("named the files"), "0 is {ok:?}");
}
