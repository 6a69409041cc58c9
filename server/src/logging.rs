//! Logging in Redis's format, so operators and the Redis test suite read our logs as theirs:
//! `pid:M 25 Nov 2026 01:43:01.123 * Ready to accept connections`. The level character is
//! Redis's (`.` debug, `-` verbose, `*` notice, `#` warning); `loglevel` and `logfile` choose
//! what is written where.

use std::fmt;
use std::fs::OpenOptions;
use std::sync::Mutex;
use std::time::{SystemTime, UNIX_EPOCH};

use tracing::{Event, Level, Subscriber};
use tracing_subscriber::filter::LevelFilter;
use tracing_subscriber::fmt::format::Writer;
use tracing_subscriber::fmt::{FmtContext, FormatEvent, FormatFields};
use tracing_subscriber::registry::LookupSpan;

/// Formats events as Redis log lines.
struct RedisFormat {
    pid: u32,
}

impl<S, N> FormatEvent<S, N> for RedisFormat
where
    S: Subscriber + for<'a> LookupSpan<'a>,
    N: for<'a> FormatFields<'a> + 'static,
{
    fn format_event(
        &self,
        ctx: &FmtContext<'_, S, N>,
        mut writer: Writer<'_>,
        event: &Event<'_>,
    ) -> fmt::Result {
        let level = match *event.metadata().level() {
            Level::TRACE => '.',
            Level::DEBUG => '-',
            Level::INFO => '*',
            Level::WARN | Level::ERROR => '#',
        };
        // Fields are formatted through a plain writer: log files never get colour codes.
        let mut fields = String::new();
        ctx.format_fields(Writer::new(&mut fields), event)?;
        writeln!(
            writer,
            "{}:M {} {} {fields}",
            self.pid,
            Timestamp::now(),
            level
        )
    }
}

/// Maps Redis's `loglevel` onto tracing's levels.
fn level_filter(loglevel: &str) -> LevelFilter {
    match loglevel {
        "debug" => LevelFilter::TRACE,
        "verbose" => LevelFilter::DEBUG,
        "warning" => LevelFilter::WARN,
        "nothing" => LevelFilter::OFF,
        _ => LevelFilter::INFO,
    }
}

/// Installs the process's subscriber: standard output when `logfile` is empty, else that
/// file in append mode.
///
/// # Errors
/// When the log file cannot be opened; the message is Redis's.
pub fn init(loglevel: &str, logfile: &str) -> Result<(), String> {
    let builder = tracing_subscriber::fmt()
        .event_format(RedisFormat {
            pid: std::process::id(),
        })
        .with_max_level(level_filter(loglevel));
    if logfile.is_empty() {
        builder.with_writer(std::io::stdout).init();
    } else {
        let file = OpenOptions::new()
            .create(true)
            .append(true)
            .open(logfile)
            .map_err(|e| format!("Can't open the log file: {e}"))?;
        builder.with_writer(Mutex::new(file)).init();
    }
    Ok(())
}

/// A wall-clock time printed as `25 Nov 2026 01:43:01.123` (UTC).
struct Timestamp {
    unix_ms: u64,
}

impl Timestamp {
    fn now() -> Timestamp {
        let unix_ms = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map_or(0, |d| u64::try_from(d.as_millis()).unwrap_or(0));
        Timestamp { unix_ms }
    }
}

impl fmt::Display for Timestamp {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        const MONTHS: [&str; 12] = [
            "Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
        ];
        let secs = self.unix_ms / 1000;
        let (year, month, day) = civil_from_days((secs / 86_400) as i64);
        let rem = secs % 86_400;
        write!(
            f,
            "{day:02} {} {year} {:02}:{:02}:{:02}.{:03}",
            MONTHS[(month - 1) as usize],
            rem / 3600,
            rem % 3600 / 60,
            rem % 60,
            self.unix_ms % 1000
        )
    }
}

/// Converts days since 1970-01-01 to (year, month 1-12, day 1-31) in the proleptic Gregorian
/// calendar (Howard Hinnant's algorithm).
fn civil_from_days(days: i64) -> (i64, u32, u32) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let month = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_read_like_redis() {
        let t = Timestamp {
            unix_ms: 1_795_570_981_123,
        };
        assert_eq!(t.to_string(), "25 Nov 2026 01:43:01.123");
        assert_eq!(civil_from_days(0), (1970, 1, 1));
        assert_eq!(civil_from_days(11_016), (2000, 2, 29));
    }
}
