use std::time::Duration;

use cloudrec_types::Endpoint;

/// The shortest request timeout `stop` may have: a synchronous stop waits for the
/// upload and may take 20 s before the service answers. The same bound as the
/// client's ([`cloudrec_client::Timeouts::MIN_STOP`]).
pub const MIN_STOP_TIMEOUT: Duration = cloudrec_client::Timeouts::MIN_STOP;

/// The default request timeout of every endpoint except `stop`.
pub const DEFAULT_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// The default time allowed to open a TCP connection.
pub const DEFAULT_CONNECT_TIMEOUT: Duration = Duration::from_secs(5);

/// The connect timeout and one request timeout per endpoint.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Timeouts {
    pub(crate) connect: Duration,
    request: [Duration; Endpoint::ALL.len()],
}

impl Default for Timeouts {
    fn default() -> Self {
        let mut request = [DEFAULT_REQUEST_TIMEOUT; Endpoint::ALL.len()];
        request[Endpoint::Stop.index()] = MIN_STOP_TIMEOUT;
        Self {
            connect: DEFAULT_CONNECT_TIMEOUT,
            request,
        }
    }
}

impl Timeouts {
    /// The configured request timeout of `endpoint`.
    pub(crate) fn request(&self, endpoint: Endpoint) -> Duration {
        self.request[endpoint.index()]
    }

    pub(crate) fn set_request(&mut self, endpoint: Endpoint, timeout: Duration) {
        self.request[endpoint.index()] = timeout;
    }

    /// The time one exchange may take: the configured timeout of the endpoint, or the
    /// caller's bound if that is smaller.
    pub(crate) fn effective(&self, endpoint: Endpoint, caller_bound: Duration) -> Duration {
        self.request(endpoint).min(caller_bound)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stop_defaults_to_the_synchronous_stop_bound_and_others_to_ten_seconds() {
        let timeouts = Timeouts::default();
        for endpoint in Endpoint::ALL {
            let expected = if endpoint == Endpoint::Stop {
                MIN_STOP_TIMEOUT
            } else {
                DEFAULT_REQUEST_TIMEOUT
            };
            assert_eq!(timeouts.request(endpoint), expected, "{endpoint}");
        }
    }

    #[test]
    fn each_endpoint_has_its_own_slot() {
        let mut timeouts = Timeouts::default();
        for (i, endpoint) in Endpoint::ALL.into_iter().enumerate() {
            timeouts.set_request(endpoint, Duration::from_secs(30 + i as u64));
        }
        for (i, endpoint) in Endpoint::ALL.into_iter().enumerate() {
            assert_eq!(
                timeouts.request(endpoint),
                Duration::from_secs(30 + i as u64)
            );
        }
    }

    #[test]
    fn the_caller_bound_wins_when_smaller() {
        let timeouts = Timeouts::default();
        let short = Duration::from_secs(3);
        assert_eq!(timeouts.effective(Endpoint::Query, short), short);
        assert_eq!(
            timeouts.effective(Endpoint::Stop, Duration::from_secs(60)),
            MIN_STOP_TIMEOUT
        );
    }
}
