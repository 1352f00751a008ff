//! Where `record --client-request` takes its JSON from: a file, `-` for stdin,
//! or the JSON itself when the value starts with `{`.

use std::io::{IsTerminal, Read};

use crate::exit::Fail;

/// The text `value` names and where it came from (for error lines).
pub(crate) fn read(value: &str) -> Result<(String, String), Fail> {
    if value.trim_start().starts_with('{') {
        return Ok((value.to_owned(), "the --client-request value".to_owned()));
    }
    if value == "-" {
        let stdin = std::io::stdin();
        if stdin.is_terminal() {
            return Err(Fail::input(
                "--client-request - reads stdin, which is a terminal: pipe the JSON in, or give a file or the JSON itself",
            ));
        }
        let mut text = String::new();
        stdin.lock().read_to_string(&mut text).map_err(|error| {
            Fail::input(format!("cannot read --client-request from stdin: {error}"))
        })?;
        return Ok((text, "stdin".to_owned()));
    }
    let text = std::fs::read_to_string(value).map_err(|error| {
        Fail::input(format!(
            "cannot read --client-request {value}: {error}; give a file, `-` for stdin, or the JSON itself (starting with {{)"
        ))
    })?;
    Ok((text, value.to_owned()))
}
