//! What both session stores share: lease bounds, times, the terminal states in SQL.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use cloudrec_client::store::{Idempotency, MAX_LEASE, StoreError};

/// [`TERMINAL_STATES`](cloudrec_client::store::TERMINAL_STATES) as SQL (and in
/// the claim index of both schemas).
pub(crate) const TERMINAL_SQL: &str = "('stopped', 'stopped_no_data', 'failed', 'lost')";

/// A statement failed during `op`.
pub(crate) fn query(op: &'static str, error: &impl std::fmt::Display) -> StoreError {
    StoreError::Query {
        op,
        detail: error.to_string(),
    }
}

/// The lease in microseconds, or [`StoreError::BadLease`] if it is zero or
/// longer than [`MAX_LEASE`].
pub(crate) fn lease_micros(lease: Duration) -> Result<i64, StoreError> {
    if lease.is_zero() || lease > MAX_LEASE {
        return Err(StoreError::BadLease(lease));
    }
    i64::try_from(lease.as_micros()).map_err(|_| StoreError::BadLease(lease))
}

/// A time given as microseconds since the Unix epoch.
pub(crate) fn time_from_micros(micros: i64) -> SystemTime {
    let magnitude = Duration::from_micros(micros.unsigned_abs());
    if micros >= 0 {
        UNIX_EPOCH.checked_add(magnitude).unwrap_or(UNIX_EPOCH)
    } else {
        UNIX_EPOCH.checked_sub(magnitude).unwrap_or(UNIX_EPOCH)
    }
}

/// The idempotency of a row from its two columns.
pub(crate) fn idempotency(key: Option<String>, hash: Option<String>) -> Option<Idempotency> {
    key.map(|key| Idempotency {
        key,
        request_hash: hash.unwrap_or_default(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use cloudrec_client::store::TERMINAL_STATES;

    #[test]
    fn terminal_sql_lists_the_terminal_states() {
        let listed = format!("('{}')", TERMINAL_STATES.join("', '"));
        assert_eq!(listed, TERMINAL_SQL);
    }

    #[test]
    fn leases_out_of_range_are_refused() {
        assert!(matches!(
            lease_micros(Duration::ZERO),
            Err(StoreError::BadLease(_))
        ));
        assert!(lease_micros(MAX_LEASE + Duration::from_secs(1)).is_err());
        assert_eq!(
            lease_micros(Duration::from_millis(1500)).ok(),
            Some(1_500_000)
        );
    }

    #[test]
    fn times_convert_from_micros() {
        assert_eq!(
            time_from_micros(1_000_000),
            UNIX_EPOCH + Duration::from_secs(1)
        );
        assert_eq!(
            time_from_micros(-1_000_000),
            UNIX_EPOCH - Duration::from_secs(1)
        );
    }
}
