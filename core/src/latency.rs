//! Latency facts: the latency monitor's event series (LATENCY LATEST/HISTORY/GRAPH/RESET,
//! `latency-monitor-threshold`) and the per-command latency histograms behind LATENCY
//! HISTOGRAM and `INFO latencystats` (`latency-tracking`).
//!
//! An event series keeps the last [`SERIES_LEN`] samples of one event ("command",
//! "fast-command", "expire-cycle"), at most one per second: a second sample in the same second
//! keeps the larger latency, as Redis does.
//!
//! A histogram counts microsecond durations in log-linear buckets: values below 256 exactly,
//! larger values by their top 8 bits, which is the 2-significant-digit precision of the HDR
//! histograms Redis keeps (relative error under 1%). Percentiles and cumulative distributions
//! are reported in Redis's units: each bucket's highest nanosecond-equivalent value.

use std::collections::BTreeMap;

use crate::command::{Command, Flag};
use crate::server::Server;

/// Samples kept per event.
pub const SERIES_LEN: usize = 160;

/// One sample: Unix seconds and milliseconds of latency.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct LatencySample {
    /// When, Unix seconds (0: unused slot).
    pub time_unix: u64,
    /// How long, milliseconds.
    pub latency_ms: u64,
}

/// The recent samples of one event, oldest first from `next`.
#[derive(Debug, Clone)]
pub struct EventSeries {
    samples: [LatencySample; SERIES_LEN],
    next: usize,
    /// The highest latency ever recorded for the event.
    pub max_ms: u64,
}

impl EventSeries {
    fn new() -> EventSeries {
        EventSeries {
            samples: [LatencySample::default(); SERIES_LEN],
            next: 0,
            max_ms: 0,
        }
    }

    fn add(&mut self, time_unix: u64, latency_ms: u64) {
        self.max_ms = self.max_ms.max(latency_ms);
        let previous = &mut self.samples[(self.next + SERIES_LEN - 1) % SERIES_LEN];
        if previous.time_unix == time_unix {
            previous.latency_ms = previous.latency_ms.max(latency_ms);
            return;
        }
        self.samples[self.next] = LatencySample {
            time_unix,
            latency_ms,
        };
        self.next = (self.next + 1) % SERIES_LEN;
    }

    /// The recorded samples, oldest first.
    pub fn samples(&self) -> impl Iterator<Item = LatencySample> + '_ {
        (0..SERIES_LEN)
            .map(|j| self.samples[(self.next + j) % SERIES_LEN])
            .filter(|s| s.time_unix != 0)
    }

    /// The newest sample.
    pub fn latest(&self) -> LatencySample {
        self.samples[(self.next + SERIES_LEN - 1) % SERIES_LEN]
    }
}

/// Bits of mantissa a bucket keeps.
const MANTISSA_BITS: u32 = 8;
/// Durations are clamped to 1 µs ..= 1 s, as Redis clamps its histograms.
const MAX_TRACKED_US: u64 = 1_000_000;

/// A latency histogram of microsecond durations.
#[derive(Debug, Clone)]
pub struct Histogram {
    counts: Vec<u64>,
    total: u64,
}

impl Default for Histogram {
    fn default() -> Self {
        Histogram::new()
    }
}

impl Histogram {
    /// An empty histogram.
    pub fn new() -> Histogram {
        let buckets = bucket_of(MAX_TRACKED_US) + 1;
        Histogram {
            counts: vec![0; buckets],
            total: 0,
        }
    }

    /// Counts one duration.
    pub fn record(&mut self, duration_us: u64) {
        let index = bucket_of(duration_us.clamp(1, MAX_TRACKED_US));
        if let Some(count) = self.counts.get_mut(index) {
            *count += 1;
            self.total += 1;
        }
    }

    /// Durations counted.
    pub fn total(&self) -> u64 {
        self.total
    }

    /// The duration at `percentile` (0..=100), in microseconds with nanosecond decimals.
    pub fn value_at_percentile(&self, percentile: f64) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        let wanted = ((percentile.clamp(0.0, 100.0) / 100.0) * self.total as f64).ceil();
        let wanted = (wanted as u64).max(1);
        let mut seen = 0;
        for (index, count) in self.counts.iter().enumerate() {
            seen += count;
            if seen >= wanted {
                return highest_equivalent_ns(bucket_floor(index) * 1000) as f64 / 1000.0;
            }
        }
        0.0
    }

    /// The cumulative distribution LATENCY HISTOGRAM prints: for reporting points 1024 ns,
    /// 2048 ns, ... (as microseconds), how many durations were at most that long; points that
    /// add nothing are left out.
    pub fn cumulative(&self) -> Vec<(u64, u64)> {
        let mut out = Vec::new();
        let mut point_ns: u64 = 1024;
        let mut index = 0;
        let mut cumulative = 0;
        let mut previous = 0;
        while cumulative < self.total {
            let limit = highest_equivalent_ns(point_ns);
            while index < self.counts.len() && bucket_floor(index) * 1000 <= limit {
                cumulative += self.counts[index];
                index += 1;
            }
            if cumulative > previous {
                out.push((limit / 1000, cumulative));
            }
            previous = cumulative;
            point_ns = point_ns.saturating_mul(2);
        }
        out
    }
}

/// The bucket holding `value`.
fn bucket_of(value: u64) -> usize {
    let bits = u64::BITS - value.leading_zeros();
    let shift = bits.saturating_sub(MANTISSA_BITS);
    let mantissa = value >> shift;
    // Shift 0 covers 0..256 exactly; each further shift covers the upper half of its range.
    (shift as usize) * (1 << (MANTISSA_BITS - 1)) + mantissa as usize
}

/// The smallest value of bucket `index`.
fn bucket_floor(index: usize) -> u64 {
    let half = 1usize << (MANTISSA_BITS - 1);
    if index < 2 * half {
        return index as u64;
    }
    let shift = (index - half) / half;
    let mantissa = index - shift * half;
    (mantissa as u64) << shift
}

/// The highest value an HDR histogram of 2 significant digits treats as equal to `ns`.
fn highest_equivalent_ns(ns: u64) -> u64 {
    let bits = u64::BITS - ns.leading_zeros();
    let shift = bits.saturating_sub(MANTISSA_BITS);
    ((ns >> shift) << shift) + (1 << shift) - 1
}

/// The latency monitor's events and the per-command histograms.
#[derive(Debug, Default)]
pub struct Latency {
    /// Event series by event name.
    pub events: BTreeMap<String, EventSeries>,
    /// Histograms by command id, created on a command's first call.
    histograms: Vec<Option<Box<Histogram>>>,
}

impl Latency {
    /// Records `latency_ms` for `event` at `time_unix`.
    pub fn add_sample(&mut self, event: &str, time_unix: u64, latency_ms: u64) {
        match self.events.get_mut(event) {
            Some(series) => series.add(time_unix, latency_ms),
            None => {
                let mut series = EventSeries::new();
                series.add(time_unix, latency_ms);
                self.events.insert(event.to_string(), series);
            }
        }
    }

    /// Forgets one event (true when it existed) or, with `None`, all of them (their count).
    pub fn reset_events(&mut self, event: Option<&str>) -> usize {
        match event {
            Some(name) => usize::from(self.events.remove(name).is_some()),
            None => {
                let count = self.events.len();
                self.events.clear();
                count
            }
        }
    }

    /// The histogram of command `id`, if it has run since the last reset.
    pub fn histogram(&self, id: usize) -> Option<&Histogram> {
        self.histograms.get(id).and_then(|h| h.as_deref())
    }

    fn record_duration(&mut self, id: usize, duration_us: u64) {
        if id >= self.histograms.len() {
            self.histograms.resize_with(id + 1, || None);
        }
        self.histograms[id]
            .get_or_insert_with(Box::default)
            .record(duration_us);
    }

    /// Forgets every histogram (CONFIG RESETSTAT).
    pub fn reset_histograms(&mut self) {
        self.histograms.clear();
    }
}

/// Adds a sample to `event` when the latency monitor is on and `latency_ms` reaches its
/// threshold.
pub fn add_sample_if_needed(server: &mut Server, event: &str, latency_ms: u64) {
    let threshold = server.config.latency_monitor_threshold;
    if threshold != 0 && latency_ms >= threshold {
        let now = server.now_ms() / 1000;
        server.latency.add_sample(event, now, latency_ms);
    }
}

/// What dispatch records for a command that ran: its duration in the command's histogram
/// (unless it blocked: the run that serves it counts) and the "command" or "fast-command" event.
pub(crate) fn record_command(
    server: &mut Server,
    command: &Command,
    duration_us: u64,
    blocked: bool,
) {
    if server.config.latency_tracking && !blocked {
        server.latency.record_duration(command.id, duration_us);
    }
    if server.config.latency_monitor_threshold != 0 {
        let event = if command.has(Flag::Fast) {
            "fast-command"
        } else {
            "command"
        };
        add_sample_if_needed(server, event, duration_us / 1000);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buckets_are_contiguous_and_keep_eight_bits() {
        for value in [0u64, 1, 255, 256, 257, 511, 512, 1000, 65_535, 1_000_000] {
            let floor = bucket_floor(bucket_of(value));
            assert!(floor <= value, "{value}");
            assert!(value - floor <= value / 128, "{value}");
        }
        assert_eq!(bucket_of(255) + 1, bucket_of(256));
        assert_eq!(bucket_of(510) + 1, bucket_of(512));
    }

    #[test]
    fn percentiles_are_reported_as_redis_does() {
        let mut h = Histogram::new();
        h.record(9);
        assert_eq!(h.total(), 1);
        // 9000 ns is in the HDR bucket 8960..=9023.
        assert_eq!(format!("{:.3}", h.value_at_percentile(50.0)), "9.023");
        for _ in 0..99 {
            h.record(1);
        }
        assert_eq!(format!("{:.3}", h.value_at_percentile(50.0)), "1.003");
        assert_eq!(format!("{:.3}", h.value_at_percentile(100.0)), "9.023");
    }

    #[test]
    fn cumulative_distribution_uses_power_of_two_points() {
        let mut h = Histogram::new();
        h.record(9);
        h.record(10_000);
        assert_eq!(h.cumulative(), vec![(16, 1), (16908, 2)]);
    }

    #[test]
    fn one_sample_per_second_keeps_the_max() {
        let mut series = EventSeries::new();
        series.add(10, 5);
        series.add(10, 3);
        series.add(11, 7);
        let samples: Vec<_> = series
            .samples()
            .map(|s| (s.time_unix, s.latency_ms))
            .collect();
        assert_eq!(samples, [(10, 5), (11, 7)]);
        assert_eq!(series.max_ms, 7);
        assert_eq!(series.latest().latency_ms, 7);
    }
}
