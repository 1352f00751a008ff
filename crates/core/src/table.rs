//! The service's status table, embedded from `data/status-codes.tsv` and read once.

use std::sync::LazyLock;

use cloudrec_types::Endpoint;

use crate::Resolution;

/// The status table as shipped with this crate (a copy of the spec's
/// `status-codes.tsv`): one row per documented (endpoint, HTTP status, code) answer.
pub const STATUS_TABLE_TSV: &str = include_str!("../data/status-codes.tsv");

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
    /// `(code, index into rules)` sorted by code, for the lookup of coded answers.
    by_code: Vec<(i64, usize)>,
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
    pub fn lookup_code(&self, endpoint: Endpoint, status: u16, code: i64) -> Option<&Rule> {
        let start = self.by_code.partition_point(|(own, _)| *own < code);
        let same_code = self.by_code[start..]
            .iter()
            .take_while(|(own, _)| *own == code)
            .filter_map(|(_, index)| self.rules.get(*index));
        let mut best: Option<(u8, &Rule)> = None;
        for rule in same_code {
            if let Some(rank) = rule.fit(endpoint, status, code)
                && best.is_none_or(|(top, _)| rank > top)
            {
                best = Some((rank, rule));
            }
        }
        best.map(|(_, rule)| rule)
    }

    /// The row of a gateway-form answer (`{"message": ..}`): same status, same
    /// message ignoring ASCII case and surrounding spaces.
    pub fn lookup_message(&self, status: u16, message: &str) -> Option<&Rule> {
        let message = message.trim();
        self.rules.iter().find(|rule| {
            rule.code.is_none()
                && rule.http_status == Some(status)
                && rule.text.eq_ignore_ascii_case(message)
        })
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
        let mut by_code: Vec<(i64, usize)> = rules
            .iter()
            .enumerate()
            .filter_map(|(index, rule)| Some((rule.code?, index)))
            .collect();
        by_code.sort_unstable();
        Self { rules, by_code }
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
    fn malformed_lines_are_skipped() {
        let table = StatusTable::parse(
            "header\nstart\t500\t62\tx\ty\tretry_backoff\tseed\nbogus\t1\n*\t-\t8\ta\tb\tnope\tother\n",
        );
        assert_eq!(table.rules().len(), 1);
    }
}
