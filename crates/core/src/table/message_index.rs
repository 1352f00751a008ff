//! The gateway rows of the status table indexed by HTTP status, for finding the
//! row of a gateway-form answer (`{"message": ..}`) without scanning every row.

use super::Rule;

/// The gateway rows (no code) of a status table, sorted by HTTP status.
///
/// A lookup gives the first row in file order with the answer's status and its
/// message ignoring ASCII case, as a scan of every row would. Within one status
/// the index keeps only rows whose texts differ ignoring ASCII case (a later row
/// whose text equals an earlier one's is never the first match), so at most one
/// row can match and the exact comparison, which is cheaper, is tried first.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub(super) struct MessageIndex {
    /// (HTTP status, index into the rules), by status, then in file order.
    /// (Rows past `u16::MAX` are left out; the shipped table has about 50.)
    rows: Vec<(u16, u16)>,
}

impl MessageIndex {
    /// Indexes the rows without a code that name an HTTP status.
    pub(super) fn new(rules: &[Rule]) -> Self {
        let text = |index: u16| rules.get(usize::from(index)).map(Rule::text);
        let mut rows: Vec<(u16, u16)> = Vec::new();
        for (index, rule) in rules.iter().enumerate() {
            let (None, Some(status), Ok(index)) =
                (rule.code, rule.http_status, u16::try_from(index))
            else {
                continue;
            };
            let shadowed = rows.iter().any(|&(own, earlier)| {
                own == status
                    && text(earlier).is_some_and(|earlier| earlier.eq_ignore_ascii_case(&rule.text))
            });
            if !shadowed {
                rows.push((status, index));
            }
        }
        // A stable sort, so that file order is kept within a status.
        rows.sort_by_key(|&(status, _)| status);
        Self { rows }
    }

    /// The row of `rules` (the rules the index was built from) with `status`
    /// whose text is `message` ignoring ASCII case.
    #[inline]
    pub(super) fn lookup<'r>(
        &self,
        rules: &'r [Rule],
        status: u16,
        message: &str,
    ) -> Option<&'r Rule> {
        let from = self.rows.partition_point(|&(own, _)| own < status);
        let same_status = self
            .rows
            .get(from..)?
            .iter()
            .take_while(|&&(own, _)| own == status)
            .filter_map(|&(_, index)| rules.get(usize::from(index)));
        same_status
            .clone()
            .find(|rule| rule.text == message)
            .or_else(|| {
                same_status
                    .into_iter()
                    .find(|rule| rule.text.eq_ignore_ascii_case(message))
            })
    }
}

#[cfg(test)]
mod tests {
    use super::super::StatusTable;
    use super::*;

    /// The definition the index follows: the first gateway row in file order
    /// with the status and the message ignoring ASCII case.
    fn scan<'r>(rules: &'r [Rule], status: u16, message: &str) -> Option<&'r Rule> {
        rules.iter().find(|rule| {
            rule.code.is_none()
                && rule.http_status == Some(status)
                && rule.text.eq_ignore_ascii_case(message)
        })
    }

    fn agree(rules: &[Rule], index: &MessageIndex, status: u16, message: &str) {
        let indexed = index
            .lookup(rules, status, message)
            .map(|rule| rule as *const Rule);
        let scanned = scan(rules, status, message).map(|rule| rule as *const Rule);
        assert_eq!(indexed, scanned, "{status} {message:?}");
    }

    #[test]
    fn the_index_agrees_with_a_scan_for_every_row_and_case() {
        let rules = StatusTable::get().rules();
        let index = MessageIndex::new(rules);
        let mut messages: Vec<String> = rules.iter().map(|rule| rule.text.clone()).collect();
        messages.extend(["", " ", "x", "unauthorized ", "é"].map(str::to_owned));
        for message in messages {
            let mut variants = vec![
                message.to_ascii_uppercase(),
                message.to_ascii_lowercase(),
                message.get(1..).unwrap_or_default().to_owned(),
                format!("{message} "),
            ];
            // Each character's case flipped in turn.
            for at in 0..message.len() {
                let mut flipped = message.clone().into_bytes();
                flipped[at] ^= if flipped[at].is_ascii_alphabetic() {
                    0x20
                } else {
                    0
                };
                variants.extend(String::from_utf8(flipped).ok());
            }
            variants.push(message);
            for variant in &variants {
                for status in (0..=600).chain([u16::MAX]) {
                    agree(rules, &index, status, variant);
                }
            }
        }
    }

    #[test]
    fn the_first_of_rows_equal_ignoring_case_wins_even_over_an_exact_match() {
        let table = StatusTable::parse(
            "header\n\
             *\t401\t-\tDenied\ta\tfix_credentials\tseed\n\
             *\t401\t-\tdenied\tb\tfix_request\tseed\n\
             *\t403\t-\tdenied\tc\tfix_account\tseed\n\
             *\t-\t-\tdenied\td\tfix_account\tseed\n\
             *\t401\t7\tdenied\te\tfix_account\tseed\n",
        );
        let rules = table.rules();
        let index = MessageIndex::new(rules);
        for status in [0, 400, 401, 403, 404, u16::MAX] {
            for message in ["denied", "Denied", "DENIED", "denie", "denied!"] {
                agree(rules, &index, status, message);
            }
        }
        let first = index.lookup(rules, 401, "denied").map(Rule::meaning);
        assert_eq!(first, Some("a"));
        assert_eq!(
            index.lookup(rules, 403, "DENIED").map(Rule::meaning),
            Some("c")
        );
    }
}
