//! Properties: classification never panics, back-off stays in bounds and grows,
//! the bucket never grants more than its rate allows.

use std::time::Duration;

use cloudrec_core::{
    Backoff, HttpResponse, Next, Permit, RateLimiter, RetryPolicy, Timestamp, classify_failure,
    classify_reply, explain,
};
use cloudrec_types::Endpoint;
use proptest::prelude::*;

fn endpoint() -> impl Strategy<Value = Endpoint> {
    prop::sample::select(Endpoint::ALL.to_vec())
}

/// Bodies that look like the service's: JSON objects with code, reason, message
/// and sid fields of any type, plus arbitrary bytes.
fn body() -> impl Strategy<Value = Vec<u8>> {
    let value = prop_oneof![
        any::<i64>().prop_map(|n| n.to_string()),
        any::<f64>().prop_map(|n| if n.is_finite() {
            n.to_string()
        } else {
            "null".into()
        }),
        ".{0,40}".prop_map(|s| serde_json::to_string(&s).unwrap()),
        Just("null".to_owned()),
        Just("{}".to_owned()),
        Just("[]".to_owned()),
    ];
    let key = prop::sample::select(vec![
        "code",
        "reason",
        "message",
        "sid",
        "resourceId",
        "cname",
    ]);
    let object = prop::collection::vec((key, value), 0..6).prop_map(|fields| {
        let inner: Vec<String> = fields.iter().map(|(k, v)| format!("\"{k}\":{v}")).collect();
        format!("{{{}}}", inner.join(",")).into_bytes()
    });
    prop_oneof![object, prop::collection::vec(any::<u8>(), 0..256)]
}

proptest! {
    #[test]
    fn classify_never_panics(endpoint in endpoint(), status in any::<u16>(), body in body(),
                             retry_after in proptest::option::of(".{0,12}"), jitter in any::<f64>(),
                             attempt in any::<u32>(), elapsed in any::<u64>()) {
        let response = HttpResponse { status, retry_after, request_id: None, body: body.into() };
        let failure = classify_failure(endpoint, &response);
        prop_assert_eq!(failure.http_status(), Some(status));
        prop_assert_eq!(failure.endpoint(), endpoint);
        let _ = failure.to_string();
        let _ = failure.report();
        let _ = classify_reply(endpoint, &response);
        let _ = explain(endpoint, status, &response.body).to_string();
        let policy = RetryPolicy::default();
        let elapsed = Duration::from_millis(elapsed);
        match policy.decide(&failure, attempt, elapsed, jitter) {
            Next::Retry { after } | Next::Failover { after } => {
                prop_assert!(elapsed + after <= policy.deadline());
                prop_assert!(attempt < policy.max_attempts());
            }
            _ => {}
        }
    }

    #[test]
    fn backoff_stays_within_the_cap_and_never_decreases(
        steps in prop::collection::vec(0u64..100_000, 1..6),
        cap_ms in 1u64..200_000,
        growth in 0u32..5,
        spread in 0u32..=100,
        jitter in any::<f64>(),
    ) {
        let mut steps: Vec<Duration> = steps.into_iter().map(Duration::from_millis).collect();
        steps.sort();
        let cap = Duration::from_millis(cap_ms);
        let backoff = Backoff::new(steps, cap).unwrap().with_growth(growth).with_spread(spread).unwrap();
        let mut previous = Duration::ZERO;
        for retry in 0..40 {
            let delay = backoff.delay(retry, jitter);
            prop_assert!(delay <= cap);
            prop_assert!(delay >= previous, "retry {} gave {:?} after {:?}", retry, delay, previous);
            previous = delay;
        }
    }

    #[test]
    fn the_bucket_never_grants_more_than_rate_times_time_plus_burst(
        rate in 1u32..50,
        burst in 1u32..20,
        gaps in prop::collection::vec(0u64..300, 1..150),
    ) {
        let burst = burst.min(rate);
        let mut bucket = RateLimiter::new(rate, burst).unwrap();
        let mut now = 0u64;
        let mut granted = Vec::new();
        for gap in gaps {
            now += gap;
            if bucket.try_acquire(Timestamp::from_origin(Duration::from_millis(now))) == Permit::Granted {
                granted.push(now);
            }
        }
        for (i, &start) in granted.iter().enumerate() {
            for (j, &end) in granted.iter().enumerate().skip(i) {
                let count = (j - i + 1) as f64;
                let allowed = f64::from(rate) * (end - start) as f64 / 1000.0 + f64::from(burst);
                prop_assert!(count <= allowed + 1e-9, "{} grants in {} ms", count, end - start);
            }
        }
    }

    #[test]
    fn no_one_second_window_holds_more_than_the_rate(
        rate in 1u32..40,
        burst_share in 0.0f64..=1.0,
        arrivals in prop::collection::vec((0u64..400_000, any::<bool>()), 1..200),
    ) {
        // Burst anywhere from 1 to the rate itself.
        let burst = 1 + ((f64::from(rate - 1) * burst_share) as u32);
        let mut bucket = RateLimiter::new(rate, burst).unwrap();
        let mut now = Duration::ZERO;
        let mut granted = Vec::new();
        // Each arrival comes after a gap (in µs), or, when the last one was told
        // to wait, exactly when told to: the pattern that fills every window.
        let mut told = None;
        for (gap, obey) in arrivals {
            now += match (told, obey) {
                (Some(wait), true) => wait,
                _ => Duration::from_micros(gap),
            };
            match bucket.try_acquire(Timestamp::from_origin(now)) {
                Permit::Granted => {
                    granted.push(now);
                    told = None;
                }
                Permit::Wait(wait) => told = Some(wait),
            }
        }
        for (i, &start) in granted.iter().enumerate() {
            let within = granted[i..].iter().take_while(|&&t| t - start < Duration::from_secs(1)).count();
            prop_assert!(
                within <= rate as usize,
                "{} grants in the second from {:?} (rate {}, burst {})", within, start, rate, burst
            );
        }
    }

    #[test]
    fn a_refused_request_is_granted_after_the_wait(rate in 1u32..50, burst in 1u32..20, at in 0u64..10_000) {
        let burst = burst.min(rate);
        let mut bucket = RateLimiter::new(rate, burst).unwrap();
        let now = Timestamp::from_origin(Duration::from_millis(at));
        for _ in 0..burst {
            prop_assert_eq!(bucket.try_acquire(now), Permit::Granted);
        }
        match bucket.try_acquire(now) {
            Permit::Wait(wait) => {
                prop_assert!(wait > Duration::ZERO);
                prop_assert_eq!(bucket.try_acquire(now + wait), Permit::Granted);
            }
            Permit::Granted => prop_assert!(false, "granted beyond the burst"),
        }
    }
}
