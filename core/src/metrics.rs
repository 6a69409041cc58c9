//! INFO's instantaneous rates (`instantaneous_ops_per_sec`, `instantaneous_input_kbps`,
//! `instantaneous_output_kbps`): like Redis, the cron samples the counters every 100 ms and a
//! rate is the mean of the last 16 samples.

use std::time::Instant;

use crate::server::Server;

/// Samples kept per metric.
const SAMPLES: usize = 16;
/// Milliseconds between two samples.
const PERIOD_MS: u128 = 100;

/// One sampled counter.
#[derive(Debug, Clone, Default)]
struct Metric {
    last_value: u64,
    samples: [f64; SAMPLES],
    next: usize,
}

impl Metric {
    fn add(&mut self, value: u64, elapsed_ms: f64) {
        let delta = value.saturating_sub(self.last_value) as f64;
        self.samples[self.next] = if elapsed_ms > 0.0 {
            delta * 1000.0 / elapsed_ms
        } else {
            0.0
        };
        self.next = (self.next + 1) % SAMPLES;
        self.last_value = value;
    }

    fn rate(&self) -> f64 {
        self.samples.iter().sum::<f64>() / SAMPLES as f64
    }
}

/// The sampled rates.
#[derive(Debug, Clone, Default)]
pub struct Metrics {
    last_sample: Option<Instant>,
    commands: Metric,
    net_input: Metric,
    net_output: Metric,
}

impl Metrics {
    /// Commands per second.
    pub fn ops_per_sec(&self) -> u64 {
        self.commands.rate() as u64
    }

    /// Bytes read per second, in KiB.
    pub fn input_kbps(&self) -> f64 {
        self.net_input.rate() / 1024.0
    }

    /// Bytes written per second, in KiB.
    pub fn output_kbps(&self) -> f64 {
        self.net_output.rate() / 1024.0
    }
}

/// Takes a sample when 100 ms have passed since the last one (the cron calls it every tick).
pub fn track(server: &mut Server) {
    let now = Instant::now();
    let elapsed = match server.metrics.last_sample {
        Some(last) if now.duration_since(last).as_millis() < PERIOD_MS => return,
        Some(last) => now.duration_since(last).as_secs_f64() * 1000.0,
        None => 0.0,
    };
    let stats = &server.stats;
    let (commands, input, output) = (
        stats.total_commands_processed,
        stats.total_net_input_bytes,
        stats.total_net_output_bytes,
    );
    let metrics = &mut server.metrics;
    if metrics.last_sample.is_none() {
        metrics.commands.last_value = commands;
        metrics.net_input.last_value = input;
        metrics.net_output.last_value = output;
    } else {
        metrics.commands.add(commands, elapsed);
        metrics.net_input.add(input, elapsed);
        metrics.net_output.add(output, elapsed);
    }
    metrics.last_sample = Some(now);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_rate_is_the_mean_of_sixteen_samples() {
        let mut metric = Metric::default();
        metric.add(100, 100.0);
        assert_eq!(metric.rate(), 1000.0 / 16.0);
        for i in 2..=16 {
            metric.add(100 * i, 100.0);
        }
        assert_eq!(metric.rate(), 1000.0);
    }
}
