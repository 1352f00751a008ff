//! Domain failover: the documented order of hosts to try, decided here and
//! resolved and connected by the transport.

use std::fmt;
use std::sync::Arc;

use crate::{PolicyError, TransportErrorKind};

/// A regional host prefix of the service (spec section 1.1).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Region {
    /// `api-us-west-1`: western US.
    UsWest1,
    /// `api-us-east-1`: eastern US.
    UsEast1,
    /// `api-ap-southeast-1`: south-east Asia-Pacific.
    ApSoutheast1,
    /// `api-ap-northeast-1`: north-east Asia-Pacific.
    ApNortheast1,
    /// `api-eu-west-1`: western Europe.
    EuWest1,
    /// `api-eu-central-1`: central Europe.
    EuCentral1,
    /// `api-cn-east-1`: east China.
    CnEast1,
    /// `api-cn-north-1`: north China.
    CnNorth1,
}

impl Region {
    /// Every region, area by area.
    pub const ALL: [Self; 8] = [
        Self::UsWest1,
        Self::UsEast1,
        Self::ApSoutheast1,
        Self::ApNortheast1,
        Self::EuWest1,
        Self::EuCentral1,
        Self::CnEast1,
        Self::CnNorth1,
    ];

    /// The region's name, e.g. `eu-west-1`.
    pub const fn as_str(self) -> &'static str {
        match self {
            Self::UsWest1 => "us-west-1",
            Self::UsEast1 => "us-east-1",
            Self::ApSoutheast1 => "ap-southeast-1",
            Self::ApNortheast1 => "ap-northeast-1",
            Self::EuWest1 => "eu-west-1",
            Self::EuCentral1 => "eu-central-1",
            Self::CnEast1 => "cn-east-1",
            Self::CnNorth1 => "cn-north-1",
        }
    }

    /// Parses a region name, with or without the `api-` prefix.
    pub fn parse(name: &str) -> Option<Self> {
        let name = name.strip_prefix("api-").unwrap_or(name);
        Self::ALL.into_iter().find(|region| region.as_str() == name)
    }

    /// The other region of the same area, tried when this one fails.
    pub const fn neighbour(self) -> Self {
        match self {
            Self::UsWest1 => Self::UsEast1,
            Self::UsEast1 => Self::UsWest1,
            Self::ApSoutheast1 => Self::ApNortheast1,
            Self::ApNortheast1 => Self::ApSoutheast1,
            Self::EuWest1 => Self::EuCentral1,
            Self::EuCentral1 => Self::EuWest1,
            Self::CnEast1 => Self::CnNorth1,
            Self::CnNorth1 => Self::CnEast1,
        }
    }

    /// Whether the region is in mainland China, where `sd-rtn.com` comes first.
    pub const fn is_china(self) -> bool {
        matches!(self, Self::CnEast1 | Self::CnNorth1)
    }
}

impl fmt::Display for Region {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The two domain suffixes every host exists under.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Suffix {
    /// `agora.io`: first choice outside mainland China.
    AgoraIo,
    /// `sd-rtn.com`: first choice inside mainland China.
    SdRtnCom,
}

impl Suffix {
    /// The domain, e.g. `agora.io`.
    pub const fn domain(self) -> &'static str {
        match self {
            Self::AgoraIo => "agora.io",
            Self::SdRtnCom => "sd-rtn.com",
        }
    }

    /// The other suffix.
    pub const fn other(self) -> Self {
        match self {
            Self::AgoraIo => Self::SdRtnCom,
            Self::SdRtnCom => Self::AgoraIo,
        }
    }

    /// The documented first choice for a server in `region`.
    pub const fn preferred_for(region: Region) -> Self {
        if region.is_china() {
            Self::SdRtnCom
        } else {
            Self::AgoraIo
        }
    }
}

/// One service host: the global `api` host or a regional one, under a suffix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Host {
    region: Option<Region>,
    suffix: Suffix,
}

impl Host {
    /// The global host, `api.<suffix>`.
    pub const fn global(suffix: Suffix) -> Self {
        Self {
            region: None,
            suffix,
        }
    }

    /// A regional host, e.g. `api-eu-west-1.<suffix>`.
    pub const fn regional(region: Region, suffix: Suffix) -> Self {
        Self {
            region: Some(region),
            suffix,
        }
    }

    /// The region, `None` for the global host.
    pub const fn region(self) -> Option<Region> {
        self.region
    }

    /// The suffix.
    pub const fn suffix(self) -> Suffix {
        self.suffix
    }

    /// The same host under the other suffix.
    pub const fn other_suffix(self) -> Self {
        Self {
            region: self.region,
            suffix: self.suffix.other(),
        }
    }

    /// The base URL, e.g. `https://api-eu-west-1.agora.io`.
    pub fn base_url(self) -> String {
        self.to_string()
    }
}

impl fmt::Display for Host {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.region {
            Some(region) => write!(f, "https://api-{region}.{}", self.suffix.domain()),
            None => write!(f, "https://api.{}", self.suffix.domain()),
        }
    }
}

/// How a step of the plan relates to the one before it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Step {
    First,
    Again,
    OtherSuffix,
    Neighbour,
}

/// The ordered hosts of one call, following the documented fallback: the primary,
/// the primary once more, the other suffix, then the neighbouring region (under
/// both suffixes). After a network failure that is not DNS resolution, steps that
/// only switch the suffix are skipped.
///
/// A base URL override (a proxy, the emulator) makes a plan of that one URL,
/// tried twice.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct FailoverPlan {
    primary: Option<Host>,
    /// Shared, so that a copy of the plan costs no allocation.
    steps: Arc<[(Step, String)]>,
    cursor: usize,
}

impl FailoverPlan {
    /// The documented order starting at `primary`. A regional primary falls back
    /// on the other region of its area; the global host has no neighbour unless
    /// one is given with [`FailoverPlan::with_home_region`].
    pub fn new(primary: Host) -> Self {
        let mut steps = vec![
            (Step::First, primary.base_url()),
            (Step::Again, primary.base_url()),
            (Step::OtherSuffix, primary.other_suffix().base_url()),
        ];
        if let Some(region) = primary.region() {
            push_region(
                &mut steps,
                Host::regional(region.neighbour(), primary.suffix()),
            );
        }
        Self {
            primary: Some(primary),
            steps: steps.into(),
            cursor: 0,
        }
    }

    /// For a global primary: the regional hosts of `home`, then of its neighbour,
    /// tried after the global host fails. Has no effect on a regional primary, a
    /// fixed URL, or when called a second time.
    pub fn with_home_region(mut self, home: Region) -> Self {
        if let Some(primary) = self.primary
            && primary.region().is_none()
            && self.steps.len() == 3
        {
            let mut steps = self.steps.to_vec();
            push_region(&mut steps, Host::regional(home, primary.suffix()));
            push_region(
                &mut steps,
                Host::regional(home.neighbour(), primary.suffix()),
            );
            self.steps = steps.into();
        }
        self
    }

    /// A plan of one base URL, e.g. `http://127.0.0.1:8080`, tried twice.
    pub fn fixed(base_url: &str) -> Result<Self, PolicyError> {
        Self::from_urls([base_url])
    }

    /// A plan of your own base URLs (proxies in two regions, test servers): the
    /// first is tried twice, then each of the others once, in order.
    pub fn from_urls<I, S>(base_urls: I) -> Result<Self, PolicyError>
    where
        I: IntoIterator<Item = S>,
        S: AsRef<str>,
    {
        let mut steps = Vec::new();
        for base_url in base_urls {
            let url = checked_base_url(base_url.as_ref())?;
            if steps.is_empty() {
                steps.push((Step::First, url.clone()));
                steps.push((Step::Again, url));
            } else {
                steps.push((Step::Neighbour, url));
            }
        }
        if steps.is_empty() {
            return Err(PolicyError::InvalidBaseUrl { url: String::new() });
        }
        Ok(Self {
            primary: None,
            steps: steps.into(),
            cursor: 0,
        })
    }

    /// The base URL to send to now.
    pub fn current(&self) -> &str {
        self.at(self.cursor)
    }

    /// Moves past the current host after a transport failure of `failed` and
    /// returns the next base URL, or `None` when the plan is exhausted.
    pub fn advance(&mut self, failed: TransportErrorKind) -> Option<&str> {
        match self.after(self.cursor, failed) {
            Some(next) => {
                self.cursor = next;
                Some(self.at(next))
            }
            None => {
                self.cursor = self.steps.len();
                None
            }
        }
    }

    /// The base URL of step `cursor` (the last one past the end). With
    /// [`after`](Self::after), a call walks the plan with a cursor of its
    /// own, and the plan is shared by every call without being copied.
    pub fn at(&self, cursor: usize) -> &str {
        self.steps
            .get(cursor)
            .or_else(|| self.steps.last())
            .map_or("", |(_, url)| url.as_str())
    }

    /// The step after `cursor` following a transport failure of `failed`, or
    /// `None` when the plan is exhausted.
    pub fn after(&self, cursor: usize, failed: TransportErrorKind) -> Option<usize> {
        let skip_suffix = failed != TransportErrorKind::Dns;
        let mut next = cursor + 1;
        while let Some((step, _)) = self.steps.get(next) {
            if !(skip_suffix && *step == Step::OtherSuffix) {
                break;
            }
            next += 1;
        }
        (next < self.steps.len()).then_some(next)
    }

    /// Every base URL of the plan in order, when each failure is DNS resolution.
    pub fn hosts(&self) -> impl Iterator<Item = &str> {
        self.steps.iter().map(|(_, url)| url.as_str())
    }

    /// Starts again from the primary (for the next call).
    pub fn reset(&mut self) {
        self.cursor = 0;
    }
}

fn push_region(steps: &mut Vec<(Step, String)>, host: Host) {
    steps.push((Step::Neighbour, host.base_url()));
    steps.push((Step::OtherSuffix, host.other_suffix().base_url()));
}

/// `base_url` without a trailing slash, if it is `http(s)://authority` and nothing more.
fn checked_base_url(base_url: &str) -> Result<String, PolicyError> {
    let url = base_url.trim_end_matches('/');
    let invalid = || PolicyError::InvalidBaseUrl {
        url: base_url.to_owned(),
    };
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"))
        .ok_or_else(invalid)?;
    if rest.is_empty() || rest.contains(['/', '?', '#', ' ', '@']) {
        return Err(invalid());
    }
    Ok(url.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn regional_plan_follows_the_documented_order() {
        let plan = FailoverPlan::new(Host::regional(Region::EuCentral1, Suffix::AgoraIo));
        let hosts: Vec<&str> = plan.hosts().collect();
        assert_eq!(
            hosts,
            [
                "https://api-eu-central-1.agora.io",
                "https://api-eu-central-1.agora.io",
                "https://api-eu-central-1.sd-rtn.com",
                "https://api-eu-west-1.agora.io",
                "https://api-eu-west-1.sd-rtn.com",
            ]
        );
    }

    #[test]
    fn a_network_error_skips_the_suffix_switch() {
        let mut plan = FailoverPlan::new(Host::regional(Region::EuCentral1, Suffix::AgoraIo));
        assert_eq!(plan.current(), "https://api-eu-central-1.agora.io");
        assert_eq!(
            plan.advance(TransportErrorKind::Connect),
            Some("https://api-eu-central-1.agora.io")
        );
        assert_eq!(
            plan.advance(TransportErrorKind::Timeout),
            Some("https://api-eu-west-1.agora.io")
        );
        assert_eq!(plan.advance(TransportErrorKind::Reset), None);
        plan.reset();
        plan.advance(TransportErrorKind::Dns);
        assert_eq!(
            plan.advance(TransportErrorKind::Dns),
            Some("https://api-eu-central-1.sd-rtn.com")
        );
    }

    #[test]
    fn global_host_with_a_home_region() {
        let plan =
            FailoverPlan::new(Host::global(Suffix::SdRtnCom)).with_home_region(Region::CnNorth1);
        let hosts: Vec<&str> = plan.hosts().collect();
        assert_eq!(
            hosts,
            [
                "https://api.sd-rtn.com",
                "https://api.sd-rtn.com",
                "https://api.agora.io",
                "https://api-cn-north-1.sd-rtn.com",
                "https://api-cn-north-1.agora.io",
                "https://api-cn-east-1.sd-rtn.com",
                "https://api-cn-east-1.agora.io",
            ]
        );
    }

    #[test]
    fn a_base_url_override_is_tried_twice() {
        let mut plan = FailoverPlan::fixed("http://127.0.0.1:8080/").unwrap();
        assert_eq!(plan.current(), "http://127.0.0.1:8080");
        assert_eq!(
            plan.advance(TransportErrorKind::Dns),
            Some("http://127.0.0.1:8080")
        );
        assert_eq!(plan.advance(TransportErrorKind::Dns), None);
        for bad in ["127.0.0.1:8080", "ftp://x", "http://", "http://h/path"] {
            assert!(FailoverPlan::fixed(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn regions_parse_and_pair_within_their_area() {
        for region in Region::ALL {
            assert_eq!(Region::parse(region.as_str()), Some(region));
            assert_eq!(region.neighbour().neighbour(), region);
            assert_eq!(region.neighbour().is_china(), region.is_china());
        }
        assert_eq!(Region::parse("api-us-east-1"), Some(Region::UsEast1));
        assert_eq!(Suffix::preferred_for(Region::CnEast1), Suffix::SdRtnCom);
    }

    #[test]
    fn own_urls_are_tried_first_twice_then_in_order_after_any_failure() {
        let mut plan = FailoverPlan::from_urls(["http://a:1/", "http://b:2"]).unwrap();
        assert_eq!(plan.current(), "http://a:1");
        assert_eq!(
            plan.advance(TransportErrorKind::Connect),
            Some("http://a:1")
        );
        assert_eq!(
            plan.advance(TransportErrorKind::Timeout),
            Some("http://b:2")
        );
        assert_eq!(plan.advance(TransportErrorKind::Connect), None);
        assert!(FailoverPlan::from_urls(["http://a:1", "ftp://b"]).is_err());
        assert!(FailoverPlan::from_urls(Vec::<String>::new()).is_err());
    }
}
