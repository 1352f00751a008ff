//! Resources, tasks and channels, and how each call changes them.

mod endpoints;
mod files;
mod gateway;
mod notices;
mod reply;
mod request_log;
mod task;

use std::collections::HashMap;
use std::time::{Duration, Instant};

use cloudrec_types::{Endpoint, Mode};

use crate::clock::{EmuTime, ScaledClock};
use crate::config::EmulatorConfig;
use crate::fault::{ActiveRule, CallInfo, FaultAction, FaultRule};

use gateway::{Bucket, basic_authorization};
pub(crate) use notices::NoticeTrack;
pub(crate) use reply::Reply;
use request_log::RequestLog;
pub use request_log::{RequestLogPage, RequestLogStats, RequestRecord};
use task::{Task, later};
pub use task::{TaskSelector, TaskView};

#[derive(Debug)]
struct Resource {
    cname: String,
    uid: String,
    created: EmuTime,
    scene: i64,
    expired_hour: i64,
    sid: Option<String>,
}

/// All mutable emulator state, behind one lock.
pub(crate) struct State {
    pub(crate) config: EmulatorConfig,
    pub(crate) clock: ScaledClock,
    resources: HashMap<String, Resource>,
    tasks: HashMap<String, Task>,
    channels: HashMap<String, u32>,
    faults: Vec<ActiveRule>,
    log: RequestLog,
    bucket: Bucket,
    /// The `Authorization` value of the configured credentials.
    expected_auth: String,
    /// Where NCS notices go, when `ncs_url` is set.
    pub(crate) ncs: Option<crate::ncs::Outbox>,
}

/// What the fault matcher decided for a call.
pub(crate) enum FaultDecision {
    /// No rule fired.
    None,
    /// A rule fired with this action.
    Fire(FaultAction),
}

impl State {
    pub(crate) fn new(config: EmulatorConfig) -> Self {
        let clock = ScaledClock::new(config.time_scale);
        let faults = config.faults.iter().cloned().map(ActiveRule::new).collect();
        let tokens = f64::from(config.rate_limit_per_sec);
        let expected_auth =
            basic_authorization(&config.customer_id, config.customer_secret.expose());
        Self {
            config,
            clock,
            resources: HashMap::new(),
            tasks: HashMap::new(),
            channels: HashMap::new(),
            faults,
            log: RequestLog::default(),
            bucket: Bucket {
                tokens,
                last: Instant::now(),
            },
            expected_auth,
            ncs: None,
        }
    }

    /// Forgets resources, tasks, channels, faults and the log; keeps the config.
    pub(crate) fn reset(&mut self) {
        self.resources.clear();
        self.tasks.clear();
        self.channels.clear();
        self.faults.clear();
        self.log.clear();
        self.bucket.tokens = f64::from(self.config.rate_limit_per_sec);
    }

    // ----- faults -----------------------------------------------------------------

    pub(crate) fn inject(&mut self, rule: FaultRule) {
        self.faults.push(ActiveRule::new(rule));
    }

    pub(crate) fn clear_faults(&mut self) {
        self.faults.clear();
    }

    pub(crate) fn faults(&self) -> Vec<FaultRule> {
        self.faults
            .iter()
            .map(|active| active.rule.clone())
            .collect()
    }

    /// The first rule that fires for the call, if any.
    pub(crate) fn match_fault(
        &mut self,
        endpoint: Option<Endpoint>,
        sid: Option<&str>,
        body_cname: Option<&str>,
    ) -> FaultDecision {
        if self.faults.is_empty() {
            return FaultDecision::None;
        }
        let task_cname = sid
            .and_then(|sid| self.tasks.get(sid))
            .map(|task| task.cname.clone());
        let call = CallInfo {
            notice: None,
            endpoint,
            sid,
            cname: body_cname.or(task_cname.as_deref()),
        };
        for rule in &mut self.faults {
            if rule.fires(&call) {
                return FaultDecision::Fire(rule.rule.action.clone());
            }
        }
        FaultDecision::None
    }

    // ----- channels -------------------------------------------------------------------

    fn channel_users(&self, cname: &str) -> u32 {
        self.channels
            .get(cname)
            .copied()
            .unwrap_or(self.config.default_channel_users)
    }

    /// Sets how many users publish in `cname` from now on.
    pub(crate) fn set_channel_users(&mut self, cname: &str, users: u32) {
        let now = self.clock.now();
        self.channels.insert(cname.to_owned(), users);
        for task in self.tasks.values_mut().filter(|task| task.cname == cname) {
            task.refresh(now);
            if task.ended.is_none() && task.mode != Mode::Web {
                task.set_publishing(now, users);
            }
        }
    }

    // ----- recovery windows ---------------------------------------------------------------

    /// Opens a recovery window on the tasks picked by `sid` or `cname`; returns their sids.
    pub(crate) fn start_recovery_window(
        &mut self,
        selector: &TaskSelector,
        length: Duration,
    ) -> Vec<String> {
        let now = self.clock.now();
        let mut sids = Vec::new();
        for task in self.tasks.values_mut() {
            task.refresh(now);
            if task.ended.is_none() && selector.picks(task) {
                task.recovery_until = Some(later(now, length));
                sids.push(task.sid.clone());
            }
        }
        sids.sort();
        sids
    }

    // ----- inspection ---------------------------------------------------------------

    pub(crate) fn tasks(&mut self) -> Vec<TaskView> {
        let now = self.clock.now();
        let mut views: Vec<TaskView> = Vec::new();
        let mut sids: Vec<String> = self.tasks.keys().cloned().collect();
        sids.sort();
        for sid in sids {
            let users = self
                .tasks
                .get(&sid)
                .map_or(0, |task| self.channel_users(&task.cname));
            if let Some(task) = self.tasks.get_mut(&sid) {
                task.refresh(now);
                if task.ended.is_none() {
                    views.push(task.view(now, &self.config, users));
                }
            }
        }
        views.sort_by(|a, b| a.sid.cmp(&b.sid));
        views
    }

    fn live_tasks(&mut self) -> usize {
        let now = self.clock.now();
        self.tasks
            .values_mut()
            .map(|task| {
                task.refresh(now);
                task.ended.is_none()
            })
            .filter(|live| *live)
            .count()
    }

    fn over_concurrency(&mut self) -> bool {
        let limit = self.config.concurrency_limit;
        limit > 0 && self.live_tasks() >= limit
    }
}
