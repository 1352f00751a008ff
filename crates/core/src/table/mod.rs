//! The service's status table, embedded from `data/status-codes.tsv` and read once.

use std::sync::LazyLock;

use cloudrec_types::Endpoint;

use crate::Resolution;

mod code_index;
mod message_index;

use code_index::CodeIndex;
use message_index::MessageIndex;

/// The status table as shipped with this crate (a copy of the spec's
/// `status-codes.tsv`): one row per documented (endpoint, HTTP status, code) answer.
pub const STATUS_TABLE_TSV: &str = include_str!("../../data/status-codes.tsv");

static TABLE: LazyLock<StatusTable> = LazyLock::new(|| StatusTable::parse(STATUS_TABLE_TSV));

/// Where a row of the table comes from.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RowSource {
    /// The current reference documentation.
    Seed,
    /// Older documentation revisions or observed answers.
    Other,
}

/// One row of the status table: which answer it matches and what it means.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Rule {
    endpoint: Option<Endpoint>,
    http_status: Option<u16>,
    code: Option<i64>,
    text: String,
    meaning: String,
    resolution: Resolution,
    source: RowSource,
}

impl Rule {
    /// The endpoint the row is about; `None` for rows that apply to every endpoint (`*`).
    pub fn endpoint(&self) -> Option<Endpoint> {
        self.endpoint
    }

    /// The HTTP status of the row; `None` where the documentation gives none (`-`).
    pub fn http_status(&self) -> Option<u16> {
        self.http_status
    }

    /// The service code; `None` for gateway answers, which carry only a message.
    pub fn code(&self) -> Option<i64> {
        self.code
    }

    /// The documented reason or message (for gateway rows, the exact message).
    pub fn text(&self) -> &str {
        &self.text
    }

    /// What the answer means, in plain words.
    pub fn meaning(&self) -> &str {
        &self.meaning
    }

    /// What the caller should do.
    pub fn resolution(&self) -> Resolution {
        self.resolution
    }

    /// Where the row comes from.
    pub fn source(&self) -> RowSource {
        self.source
    }

    /// How well this row fits an answer with a service code; `None` if it does not.
    ///
    /// A row naming the endpoint beats a `*` row; within that, a row whose status
    /// equals the answer's beats a row without a status (`-`), which beats a row with
    /// another status (the code is more specific than the HTTP status, whose value is
    /// unconfirmed for older codes).
    fn fit(&self, endpoint: Endpoint, status: u16, code: i64) -> Option<u8> {
        if self.code != Some(code) {
            return None;
        }
        let endpoint_exact = match self.endpoint {
            Some(own) if own == endpoint => true,
            Some(_) => return None,
            None => false,
        };
        let rank = match (endpoint_exact, self.http_status) {
            (true, Some(own)) if own == status => 7,
            (true, None) => 6,
            (false, Some(own)) if own == status => 5,
            (false, None) => 4,
            (true, Some(_)) => 3,
            (false, Some(_)) => 2,
        };
        Some(rank)
    }
}

/// The whole status table: the single source for classification and explanations.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct StatusTable {
    rules: Vec<Rule>,
    /// The answer of [`StatusTable::lookup_code`] for every (code, endpoint,
    /// status) the table can tell apart, compiled once: the index into `rules`
    /// by [`code_key`].
    codes: CodeIndex,
    /// Whether some row has a code outside `i32` (then lookups scan the rows).
    wide_codes: bool,
    /// The gateway rows (no code) by HTTP status.
    messages: MessageIndex,
}

/// The status that stands for "a status no row of this code names".
const OTHER_STATUS: u16 = 0;

/// (code, endpoint, status) in one key, for a code that fits an `i32`.
fn code_key(endpoint: Endpoint, status: u16, code: i64) -> Option<u64> {
    let code = i32::try_from(code).ok()?;
    let endpoint = endpoint.index() as u64;
    let code = u64::from(code.cast_unsigned());
    Some((code << 32) | (endpoint << 16) | u64::from(status))
}

impl StatusTable {
    /// The table embedded in this crate.
    pub fn get() -> &'static Self {
        &TABLE
    }

    /// Every row, in file order.
    pub fn rules(&self) -> &[Rule] {
        &self.rules
    }

    /// The row that best matches a service-form answer (`{"code": ..}`), if any.
    ///
    /// A row naming the endpoint beats a `*` row; within that, a row whose status
    /// equals the answer's beats a row without a status (`-`), which beats a row
    /// with another status. The answer is compiled for every case when the table
    /// is read, so a lookup is one or two probes of a hash table.
    pub fn lookup_code(&self, endpoint: Endpoint, status: u16, code: i64) -> Option<&Rule> {
        if self.wide_codes {
            return self.rules.get(self.scan_code(endpoint, status, code)?);
        }
        let find = |status| self.codes.get(code_key(endpoint, status, code)?);
        let row = find(status).or_else(|| find(OTHER_STATUS))?;
        self.rules.get(usize::from(row))
    }

    /// The best row by [`Rule::fit`], by scanning every row (the definition the
    /// compiled lookup follows).
    fn scan_code(&self, endpoint: Endpoint, status: u16, code: i64) -> Option<usize> {
        let mut best: Option<(u8, usize)> = None;
        for (index, rule) in self.rules.iter().enumerate() {
            if let Some(rank) = rule.fit(endpoint, status, code)
                && best.is_none_or(|(top, _)| rank > top)
            {
                best = Some((rank, index));
            }
        }
        best.map(|(_, index)| index)
    }

    /// The row of a gateway-form answer (`{"message": ..}`): same status, same
    /// message ignoring ASCII case and surrounding spaces.
    #[inline]
    pub fn lookup_message(&self, status: u16, message: &str) -> Option<&Rule> {
        // `trim` walks both ends char by char; a message that starts and ends
        // with a printable ASCII character (the usual case) has nothing to trim.
        let plain = |byte: Option<&u8>| byte.is_some_and(|b| b.is_ascii_graphic());
        let bytes = message.as_bytes();
        let message = if plain(bytes.first()) && plain(bytes.last()) {
            message
        } else {
            message.trim()
        };
        self.messages.lookup(&self.rules, status, message)
    }

    /// Reads the tab-separated table. Lines that do not have the seven columns
    /// or name an unknown endpoint, status, code or resolution are skipped; the
    /// crate's tests check that no row of the shipped table is skipped.
    fn parse(tsv: &str) -> Self {
        let rules: Vec<Rule> = tsv
            .lines()
            .skip(1)
            .filter(|line| !line.trim().is_empty())
            .filter_map(parse_row)
            .collect();
        let messages = MessageIndex::new(&rules);
        let mut table = Self {
            rules,
            codes: CodeIndex::new(&[]),
            wide_codes: false,
            messages,
        };
        // Every (code, endpoint, status) a row names, and each (code, endpoint)
        // with a status no row of that code names.
        let mut cases: Vec<(i64, u16)> = table
            .rules
            .iter()
            .filter_map(|rule| {
                let code = rule.code?;
                Some([
                    (code, rule.http_status.unwrap_or(OTHER_STATUS)),
                    (code, OTHER_STATUS),
                ])
            })
            .flatten()
            .collect();
        cases.sort_unstable();
        cases.dedup();
        let mut by_code = Vec::new();
        for (code, status) in cases {
            for endpoint in Endpoint::ALL {
                if let Some(index) = table.scan_code(endpoint, status, code)
                    && let Ok(index) = u16::try_from(index)
                {
                    match code_key(endpoint, status, code) {
                        Some(key) => by_code.push((key, index)),
                        None => table.wide_codes = true,
                    }
                }
            }
        }
        table.codes = CodeIndex::new(&by_code);
        table
    }
}

fn parse_row(line: &str) -> Option<Rule> {
    let mut columns = line.split('\t');
    let endpoint = match columns.next()? {
        "*" => None,
        name => Some(name.parse::<Endpoint>().ok()?),
    };
    let http_status = match columns.next()? {
        "-" => None,
        status => Some(status.parse::<u16>().ok()?),
    };
    let code = match columns.next()? {
        "-" => None,
        code => Some(code.parse::<i64>().ok()?),
    };
    let text = columns.next()?.to_owned();
    let meaning = columns.next()?.to_owned();
    let resolution = Resolution::parse(columns.next()?)?;
    let source = match columns.next()? {
        "seed" => RowSource::Seed,
        _ => RowSource::Other,
    };
    Some(Rule {
        endpoint,
        http_status,
        code,
        text,
        meaning,
        resolution,
        source,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_line_of_the_shipped_table_parses() {
        let lines = STATUS_TABLE_TSV
            .lines()
            .skip(1)
            .filter(|line| !line.trim().is_empty())
            .count();
        assert!(lines > 40);
        assert_eq!(StatusTable::get().rules().len(), lines);
    }

    #[test]
    fn the_endpoint_row_beats_the_wildcard_and_the_status_refines() {
        let table = StatusTable::get();
        let acquire = table.lookup_code(Endpoint::Acquire, 500, 501).unwrap();
        assert_eq!(acquire.resolution(), Resolution::RetryBackoff);
        let query = table.lookup_code(Endpoint::Query, 500, 501).unwrap();
        assert_eq!(query.resolution(), Resolution::AlreadyExiting);
        assert!(table.lookup_code(Endpoint::Start, 500, 501).is_none());
    }

    #[test]
    fn the_compiled_lookup_agrees_with_a_scan_of_every_row() {
        let table = StatusTable::get();
        let mut codes: Vec<i64> = table.rules().iter().filter_map(Rule::code).collect();
        codes.extend([-1, 0, 3, 999, i64::MIN, i64::MAX]);
        for code in codes {
            for endpoint in Endpoint::ALL {
                for status in (0..=600).chain([u16::MAX]) {
                    let compiled = table
                        .lookup_code(endpoint, status, code)
                        .map(|rule| rule as *const Rule);
                    let scanned = table
                        .scan_code(endpoint, status, code)
                        .map(|index| &table.rules()[index] as *const Rule);
                    assert_eq!(compiled, scanned, "{endpoint} {status} {code}");
                }
            }
        }
    }

    #[test]
    fn gateway_messages_match_by_status_and_text() {
        let table = StatusTable::get();
        let rule = table
            .lookup_message(404, " No Route matched with those values ")
            .unwrap();
        assert_eq!(rule.resolution(), Resolution::FixRequest);
        assert!(
            table
                .lookup_message(400, "no Route matched with those values")
                .is_none()
        );
    }

    #[test]
    fn gateway_lookups_agree_with_a_scan_of_the_trimmed_message() {
        let table = StatusTable::get();
        let scan = |status: u16, message: &str| {
            table.rules().iter().find(|rule| {
                rule.code.is_none()
                    && rule.http_status == Some(status)
                    && rule.text.eq_ignore_ascii_case(message.trim())
            })
        };
        for rule in table.rules() {
            let text = &rule.text;
            for message in [
                text.clone(),
                text.to_ascii_uppercase(),
                format!(" {text}"),
                format!("{text}\t"),
                format!("\r\n {} \u{a0}", text.to_ascii_lowercase()),
                format!("\u{2003}{text}"),
                format!("{text}."),
            ] {
                for status in [0, 200, 400, 401, 403, 404, 429, 500, u16::MAX] {
                    let found = table.lookup_message(status, &message);
                    assert_eq!(
                        found.map(|rule| rule as *const Rule),
                        scan(status, &message).map(|rule| rule as *const Rule),
                        "{status} {message:?}"
                    );
                }
            }
        }
    }

    #[test]
    fn codes_beyond_i32_are_found_by_a_scan() {
        let table = StatusTable::parse(
            "header\nstart\t500\t62\tx\ty\tretry_backoff\tseed\n*\t-\t-9999999999\ta\tb\tfix_request\tother\n",
        );
        let wide = table
            .lookup_code(Endpoint::Stop, 400, -9_999_999_999)
            .unwrap();
        assert_eq!(wide.resolution(), Resolution::FixRequest);
        let narrow = table.lookup_code(Endpoint::Start, 504, 62).unwrap();
        assert_eq!(narrow.resolution(), Resolution::RetryBackoff);
        assert!(table.lookup_code(Endpoint::Query, 500, 62).is_none());
    }

    #[test]
    fn malformed_lines_are_skipped() {
        let table = StatusTable::parse(
            "header\nstart\t500\t62\tx\ty\tretry_backoff\tseed\nbogus\t1\n*\t-\t8\ta\tb\tnope\tother\n",
        );
        assert_eq!(table.rules().len(), 1);
    }
}
