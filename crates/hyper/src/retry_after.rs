//! `Retry-After` in either of its forms, handed to the core as delay-seconds.

use std::time::SystemTime;

/// The `Retry-After` value `value` as delay-seconds, the form the core reads.
///
/// The seconds form is kept as sent. The HTTP-date form (RFC 9110: IMF-fixdate,
/// or the obsolete RFC 850 and asctime forms) becomes the whole seconds from the
/// answer's `Date` header (`date`) to that time, rounded up; without a readable
/// `Date`, from `now`. The server's own clock is the better reference: a local
/// clock that is off would shift every wait. A date already passed is 0. A
/// value in neither form is kept as sent, and the core ignores it.
pub(crate) fn delay_seconds(value: String, date: Option<&str>, now: SystemTime) -> String {
    let trimmed = value.trim();
    if trimmed.bytes().all(|b| b.is_ascii_digit()) {
        return value;
    }
    let Ok(at) = httpdate::parse_http_date(trimmed) else {
        return value;
    };
    let reference = date
        .and_then(|date| httpdate::parse_http_date(date.trim()).ok())
        .unwrap_or(now);
    let wait = at.duration_since(reference).unwrap_or_default();
    let seconds = wait.as_secs() + u64::from(wait.subsec_nanos() > 0);
    seconds.to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn at(text: &str) -> SystemTime {
        httpdate::parse_http_date(text).unwrap()
    }

    #[test]
    fn each_date_form_becomes_the_seconds_from_the_answers_date() {
        let date = Some("Wed, 21 Oct 2026 07:28:00 GMT");
        let far = SystemTime::UNIX_EPOCH;
        for value in [
            "Wed, 21 Oct 2026 07:28:07 GMT",
            "Wednesday, 21-Oct-26 07:28:07 GMT",
            "Wed Oct 21 07:28:07 2026",
        ] {
            assert_eq!(delay_seconds(value.into(), date, far), "7", "{value}");
        }
    }

    #[test]
    fn without_a_date_header_the_local_clock_is_the_reference() {
        let value = "Wed, 21 Oct 2026 07:28:07 GMT";
        let now = at("Wed, 21 Oct 2026 07:28:00 GMT") + Duration::from_millis(500);
        assert_eq!(delay_seconds(value.into(), None, now), "7");
        assert_eq!(delay_seconds(value.into(), Some("not a date"), now), "7");
    }

    #[test]
    fn a_passed_date_is_zero_and_other_values_are_kept() {
        let now = at("Wed, 21 Oct 2026 07:28:00 GMT");
        let passed = "Wed, 21 Oct 2026 07:27:00 GMT";
        assert_eq!(delay_seconds(passed.into(), None, now), "0");
        assert_eq!(delay_seconds("120".into(), None, now), "120");
        assert_eq!(delay_seconds("soon".into(), None, now), "soon");
    }
}
