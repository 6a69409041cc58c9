//! `oom-score-adj`: how likely the kernel's OOM killer is to pick this process, set through
//! `/proc/self/oom_score_adj` from `oom-score-adj-values` (one value per process class:
//! master, replica, background child).
//!
//! As in Redis, the score the process had before Oxidis first changed it is the base: with
//! `relative` (or `yes`) the class's value is added to it, with `absolute` it replaces it, and
//! turning the setting off puts the base back. Only Linux has the file; elsewhere nothing is
//! done.

use crate::config::Config;

/// The process classes `oom-score-adj-values` lists, in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProcessClass {
    /// A master (or a server that replicates from nobody).
    Master = 0,
    /// A replica.
    Replica = 1,
    /// A background save or rewrite (Oxidis has no child process, so this class is unused).
    BackgroundChild = 2,
}

/// Whether Oxidis changed the score, and what it was before.
#[derive(Debug, Default)]
pub struct OomScore {
    /// The score before Oxidis first changed it, once it has.
    base: Option<i64>,
}

const PROC_FILE: &str = "/proc/self/oom_score_adj";

impl OomScore {
    /// Sets the score `config` asks for `class`.
    ///
    /// # Errors
    /// The file could not be read or written (the reason is also logged, as Redis does; CONFIG
    /// SET answers with its own words).
    pub fn apply(&mut self, config: &Config, class: ProcessClass) -> std::io::Result<()> {
        let mode = config.get("oom-score-adj").unwrap_or_default();
        let score = if mode == b"no" {
            // Off: undo what was done, or leave the score alone.
            match self.base.take() {
                Some(base) => base,
                None => return Ok(()),
            }
        } else {
            let base = match self.base {
                Some(base) => base,
                None => {
                    let base = read_score().inspect_err(log_failure)?;
                    self.base = Some(base);
                    base
                }
            };
            let value = class_value(config, class);
            let score = if mode == b"absolute" {
                value
            } else {
                value + base
            };
            score.clamp(-1000, 1000)
        };
        write_score(score).inspect_err(log_failure)
    }
}

/// The value `oom-score-adj-values` gives `class`.
fn class_value(config: &Config, class: ProcessClass) -> i64 {
    let values = config.get("oom-score-adj-values").unwrap_or_default();
    String::from_utf8_lossy(&values)
        .split_whitespace()
        .nth(class as usize)
        .and_then(|v| v.parse().ok())
        .unwrap_or(0)
}

fn log_failure(err: &std::io::Error) {
    tracing::warn!("Unable to write oom_score_adj: {err}");
}

#[cfg(target_os = "linux")]
fn read_score() -> std::io::Result<i64> {
    let text = std::fs::read_to_string(PROC_FILE)?;
    text.trim()
        .parse()
        .map_err(|_| std::io::Error::new(std::io::ErrorKind::InvalidData, "not a number"))
}

#[cfg(target_os = "linux")]
fn write_score(score: i64) -> std::io::Result<()> {
    std::fs::write(PROC_FILE, score.to_string())
}

#[cfg(not(target_os = "linux"))]
fn read_score() -> std::io::Result<i64> {
    Ok(0)
}

#[cfg(not(target_os = "linux"))]
fn write_score(_score: i64) -> std::io::Result<()> {
    Ok(())
}

#[cfg(all(test, target_os = "linux"))]
mod tests {
    use super::*;

    fn config(mode: &str, values: &str) -> Config {
        let mut config = Config::default();
        let values: Vec<&[u8]> = values.split(' ').map(str::as_bytes).collect();
        config
            .set("oom-score-adj-values", &values)
            .expect("valid values");
        config
            .set("oom-score-adj", &[mode.as_bytes()])
            .expect("valid mode");
        config
    }

    #[test]
    fn relative_adds_to_the_base_absolute_replaces_it_and_no_restores_it() {
        let start = read_score().expect("readable");
        let mut oom = OomScore::default();
        // Lowering a score back needs privilege (CI runs as root); unprivileged, the first
        // write that would lower it fails and the rest cannot be checked.
        if oom
            .apply(&config("relative", "9 9 9"), ProcessClass::Master)
            .is_err()
        {
            return;
        }
        assert_eq!(
            read_score().expect("readable"),
            (start + 9).clamp(-1000, 1000)
        );
        if oom
            .apply(&config("absolute", "7 7 7"), ProcessClass::Master)
            .is_ok()
        {
            assert_eq!(read_score().expect("readable"), 7);
        }
        if oom
            .apply(&config("no", "9 9 9"), ProcessClass::Master)
            .is_ok()
        {
            assert_eq!(read_score().expect("readable"), start);
        }
    }
}
