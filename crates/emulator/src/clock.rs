//! Emulator time: real time multiplied by the configured time scale.

use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

/// A point in emulator time, measured from the start of the emulator.
pub(crate) type EmuTime = Duration;

/// Converts between real time and emulator time.
#[derive(Clone, Debug)]
pub(crate) struct ScaledClock {
    started: Instant,
    started_unix_ms: i64,
    scale: f64,
}

impl ScaledClock {
    pub(crate) fn new(scale: f64) -> Self {
        let started_unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX));
        Self {
            started: Instant::now(),
            started_unix_ms,
            scale,
        }
    }

    /// Emulator time elapsed since the start.
    pub(crate) fn now(&self) -> EmuTime {
        Duration::try_from_secs_f64(self.started.elapsed().as_secs_f64() * self.scale)
            .unwrap_or(Duration::MAX)
    }

    /// The wall-clock time in unix milliseconds of an emulator instant.
    pub(crate) fn unix_ms(&self, at: EmuTime) -> i64 {
        self.started_unix_ms
            .saturating_add(i64::try_from(at.as_millis()).unwrap_or(i64::MAX))
    }

    /// How long, in real time, an emulator duration lasts.
    pub(crate) fn real(&self, emulated: Duration) -> Duration {
        Duration::try_from_secs_f64(emulated.as_secs_f64() / self.scale).unwrap_or(Duration::MAX)
    }
}
