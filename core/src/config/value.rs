//! Parameter values: parsing one from its arguments with Redis's exact error texts, and
//! formatting it for CONFIG GET and CONFIG REWRITE.

use super::table::{Kind, MULTI_ARG, Param, Special, Unit};

/// `client-output-buffer-limit` for one client class.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OutputBufferLimit {
    /// Disconnect at once past this many bytes (0: no limit).
    pub hard_bytes: u64,
    /// Disconnect after `soft_seconds` past this many bytes (0: no limit).
    pub soft_bytes: u64,
    /// How long the soft limit may be exceeded.
    pub soft_seconds: u64,
}

/// Client classes of `client-output-buffer-limit`, in Redis's order.
pub const OUTPUT_BUFFER_CLASSES: [&str; 3] = ["normal", "slave", "pubsub"];

/// Redis's defaults for `client-output-buffer-limit`.
pub const DEFAULT_OUTPUT_BUFFER_LIMITS: [OutputBufferLimit; 3] = [
    OutputBufferLimit {
        hard_bytes: 0,
        soft_bytes: 0,
        soft_seconds: 0,
    },
    OutputBufferLimit {
        hard_bytes: 256 << 20,
        soft_bytes: 64 << 20,
        soft_seconds: 60,
    },
    OutputBufferLimit {
        hard_bytes: 32 << 20,
        soft_bytes: 8 << 20,
        soft_seconds: 60,
    },
];

/// Keyspace event classes (`notify-keyspace-events`), as Redis numbers them.
pub mod keyspace_events {
    /// `K`: `__keyspace@<db>__` channel.
    pub const KEYSPACE: u32 = 1 << 0;
    /// `E`: `__keyevent@<db>__` channel.
    pub const KEYEVENT: u32 = 1 << 1;
    /// `g`: generic commands.
    pub const GENERIC: u32 = 1 << 2;
    /// `$`: strings.
    pub const STRING: u32 = 1 << 3;
    /// `l`: lists.
    pub const LIST: u32 = 1 << 4;
    /// `s`: sets.
    pub const SET: u32 = 1 << 5;
    /// `h`: hashes.
    pub const HASH: u32 = 1 << 6;
    /// `z`: sorted sets.
    pub const ZSET: u32 = 1 << 7;
    /// `x`: expired.
    pub const EXPIRED: u32 = 1 << 8;
    /// `e`: evicted.
    pub const EVICTED: u32 = 1 << 9;
    /// `t`: streams.
    pub const STREAM: u32 = 1 << 10;
    /// `m`: key misses (not part of `A`).
    pub const KEY_MISS: u32 = 1 << 11;
    /// Keys loaded from an RDB file: for module subscribers only (no letter, never published).
    pub const LOADED: u32 = 1 << 12;
    /// `d`: module events.
    pub const MODULE: u32 = 1 << 13;
    /// `n`: new keys (not part of `A`).
    pub const NEW: u32 = 1 << 14;
    /// `A`: every class but `m` and `n`.
    pub const ALL: u32 =
        GENERIC | STRING | LIST | SET | HASH | ZSET | EXPIRED | EVICTED | STREAM | MODULE;
}

/// A parameter's current value.
#[derive(Debug, Clone, PartialEq)]
pub enum Value {
    /// `yes`/`no`.
    Bool(bool),
    /// Any integer parameter (wide enough for `maxmemory`'s unsigned range).
    Num(i128),
    /// An enum value, or a set of flags for multi-argument enums.
    Enum(u32),
    /// A string, or NULL.
    Str(Option<Vec<u8>>),
    /// `save`: (seconds, changes) pairs.
    Save(Vec<(u64, u64)>),
    /// `bind`.
    Bind(Vec<String>),
    /// `replicaof`: host and port.
    ReplicaOf(Option<(String, u16)>),
    /// `client-output-buffer-limit` for normal, replica and pubsub clients.
    OutputBufferLimits([OutputBufferLimit; 3]),
    /// `oom-score-adj-values`.
    OomScoreAdj([i32; 3]),
    /// `notify-keyspace-events` flags.
    KeyspaceEvents(u32),
    /// `latency-tracking-info-percentiles`.
    Percentiles(Vec<f64>),
    /// `dir`.
    Dir(String),
}

const WRONG_ARGS: &str = "wrong number of arguments";
const INVALID_SAVE: &str = "Invalid save parameters";

/// The default value of `param`.
pub fn default_value(param: &Param) -> Value {
    match param.kind {
        Kind::Bool { default, .. } => Value::Bool(default),
        Kind::Num { default, .. } => Value::Num(default),
        Kind::Enum { default, .. } => Value::Enum(default),
        Kind::Str { default, .. } => Value::Str(default.map(|d| d.as_bytes().to_vec())),
        Kind::Special(special) => match special {
            Special::Dir => Value::Dir(".".to_string()),
            Special::Save => Value::Save(vec![(3600, 1), (300, 100), (60, 10000)]),
            Special::ClientOutputBufferLimit => {
                Value::OutputBufferLimits(DEFAULT_OUTPUT_BUFFER_LIMITS)
            }
            Special::OomScoreAdjValues => Value::OomScoreAdj([0, 200, 800]),
            Special::NotifyKeyspaceEvents => Value::KeyspaceEvents(0),
            Special::Bind => Value::Bind(vec!["*".to_string(), "-::*".to_string()]),
            Special::ReplicaOf => Value::ReplicaOf(None),
            Special::LatencyTrackingInfoPercentiles => Value::Percentiles(vec![50.0, 99.0, 99.9]),
        },
    }
}

/// Parses `args` as a new value for `param`; `current` is needed by `save` (which appends
/// while a config file is read) and `client-output-buffer-limit` (which sets some classes).
/// Errors are Redis's texts, without the "CONFIG SET failed" frame.
pub fn parse(param: &Param, args: &[&[u8]], current: &Value) -> Result<Value, String> {
    // Only multi-argument parameters may get a count other than one (the loaders check that).
    let first = args.first().copied().unwrap_or(b"");
    match param.kind {
        Kind::Bool { refuse_yes, .. } => {
            let yes = parse_yes_no(first).ok_or("argument must be 'yes' or 'no'")?;
            match refuse_yes {
                Some(text) if yes => Err(text.to_string()),
                _ => Ok(Value::Bool(yes)),
            }
        }
        Kind::Num { min, max, unit, .. } => parse_number(first, min, max, unit).map(Value::Num),
        Kind::Enum { names, .. } => parse_enum(param, names, args).map(Value::Enum),
        Kind::Str {
            empty_is_null,
            check,
            ..
        } => {
            if let Some(check) = check {
                check(first)?;
            }
            Ok(Value::Str(if empty_is_null && first.is_empty() {
                None
            } else {
                Some(first.to_vec())
            }))
        }
        Kind::Special(special) => parse_special(special, args, current),
    }
}

/// `yes`/`no`, case-insensitively.
pub fn parse_yes_no(text: &[u8]) -> Option<bool> {
    if text.eq_ignore_ascii_case(b"yes") {
        Some(true)
    } else if text.eq_ignore_ascii_case(b"no") {
        Some(false)
    } else {
        None
    }
}

fn parse_number(text: &[u8], min: i128, max: i128, unit: Unit) -> Result<i128, String> {
    let parsed = match unit {
        Unit::Plain => crate::command::parse_i64(text).ok().map(i128::from),
        Unit::Memory => parse_memory(text).map(i128::from),
        Unit::MemoryOrPercent => parse_memory(text).map(i128::from).or_else(|| {
            // A percentage is stored as a negative number.
            let digits = text.strip_suffix(b"%").filter(|d| !d.is_empty())?;
            let n = crate::command::parse_i64(digits).ok()?;
            (n >= 0).then(|| -i128::from(n))
        }),
        Unit::Octal => match c_strtoll(text, 8) {
            (n, true) => Some(i128::from(n)),
            _ => None,
        },
    };
    let value = parsed.ok_or(match unit {
        Unit::Plain => "argument couldn't be parsed into an integer",
        Unit::Memory => "argument must be a memory value",
        Unit::MemoryOrPercent => "argument must be a memory or percent value",
        Unit::Octal => "argument couldn't be parsed as an octal number",
    })?;
    if unit == Unit::MemoryOrPercent && value < 0 {
        if value < min {
            return Err(format!(
                "percentage argument must be less or equal to {}",
                -min
            ));
        }
    } else if value < min || value > max {
        return Err(if unit == Unit::Octal {
            format!("argument must be between {min:o} and {max:o} inclusive")
        } else {
            format!("argument must be between {min} and {max} inclusive")
        });
    }
    Ok(value)
}

/// Redis's `memtoull`: digits with an optional unit (`b`, `k`, `kb`, `m`, `mb`, `g`, `gb`).
pub fn parse_memory(text: &[u8]) -> Option<u64> {
    let digits_end = text
        .iter()
        .position(|b| !b.is_ascii_digit())
        .unwrap_or(text.len());
    let (digits, unit) = text.split_at(digits_end);
    let multiplier: u64 = match unit.to_ascii_lowercase().as_slice() {
        b"" | b"b" => 1,
        b"k" => 1000,
        b"kb" => 1024,
        b"m" => 1000 * 1000,
        b"mb" => 1024 * 1024,
        b"g" => 1000 * 1000 * 1000,
        b"gb" => 1024 * 1024 * 1024,
        _ => return None,
    };
    if digits.is_empty() {
        // strtoull("") is 0 without EINVAL on glibc, so "" and "kb" mean 0.
        return Some(0);
    }
    // strtoull saturates on overflow, and the multiplication wraps, as in C.
    let value = std::str::from_utf8(digits)
        .ok()?
        .parse::<u64>()
        .unwrap_or(u64::MAX);
    Some(value.wrapping_mul(multiplier))
}

/// C's `strtoll` followed by an "all consumed" check: leading blanks, a sign, digits in
/// `radix`, saturating. Returns (value, whether nothing but digits followed).
pub fn c_strtoll(text: &[u8], radix: u32) -> (i64, bool) {
    let mut i = 0;
    while i < text.len() && matches!(text[i], b' ' | b'\t' | b'\n' | b'\r' | 0x0b | 0x0c) {
        i += 1;
    }
    let negative = match text.get(i) {
        Some(b'-') => {
            i += 1;
            true
        }
        Some(b'+') => {
            i += 1;
            false
        }
        _ => false,
    };
    let start = i;
    let mut value: i64 = 0;
    while let Some(d) = text.get(i).and_then(|&b| char::from(b).to_digit(radix)) {
        let d = i64::from(d);
        value = if negative {
            value.saturating_mul(i64::from(radix)).saturating_sub(d)
        } else {
            value.saturating_mul(i64::from(radix)).saturating_add(d)
        };
        i += 1;
    }
    if i == start {
        // No digits: strtoll leaves the end pointer at the very beginning.
        return (0, text.is_empty());
    }
    (value, i == text.len())
}

fn parse_enum(param: &Param, names: &[(&str, u32)], args: &[&[u8]]) -> Result<u32, String> {
    let bitflags = param.has(MULTI_ARG);
    let mut value = 0;
    let valid = !args.is_empty() && (bitflags || args.len() == 1);
    let mut matched_all = valid;
    if valid {
        for arg in args {
            let mut matched = false;
            for (name, v) in names {
                if arg.eq_ignore_ascii_case(name.as_bytes()) {
                    value |= v;
                    matched = true;
                }
            }
            matched_all &= matched;
        }
    }
    if !matched_all {
        let list: Vec<&str> = names.iter().map(|(n, _)| *n).collect();
        let mut text = format!(
            "argument(s) must be one of the following: {}",
            list.join(", ")
        );
        // Redis builds this text in a 256-byte buffer.
        text.truncate(255);
        return Err(text);
    }
    if param.name.starts_with("shutdown-on-sig") && value & 1 != 0 && value & 2 != 0 {
        return Err("shutdown options SAVE and NOSAVE can't be used simultaneously".to_string());
    }
    Ok(value)
}

fn parse_special(special: Special, args: &[&[u8]], current: &Value) -> Result<Value, String> {
    match special {
        Special::Dir => {
            let [dir] = args else {
                return Err(WRONG_ARGS.into());
            };
            let path =
                std::path::Path::new(std::str::from_utf8(dir).map_err(|_| "Invalid argument")?);
            let absolute = std::fs::canonicalize(path).map_err(|e| io_error_text(&e))?;
            if !absolute.is_dir() {
                return Err("Not a directory".into());
            }
            Ok(Value::Dir(absolute.to_string_lossy().into_owned()))
        }
        Special::Save => parse_save(args).map(Value::Save),
        Special::ClientOutputBufferLimit => {
            let Value::OutputBufferLimits(mut limits) = current.clone() else {
                return Err("unexpected value".into());
            };
            parse_output_buffer_limits(args, &mut limits)?;
            Ok(Value::OutputBufferLimits(limits))
        }
        Special::OomScoreAdjValues => {
            let [a, b, c] = args else {
                return Err(WRONG_ARGS.into());
            };
            let mut values = [0i32; 3];
            for (slot, arg) in values.iter_mut().zip([a, b, c]) {
                *slot = match c_strtoll(arg, 10) {
                    (n, true) if (-2000..=2000).contains(&n) => i32::try_from(n).unwrap_or(0),
                    _ => {
                        return Err("Invalid oom-score-adj-values, elements must be between -2000 and 2000.".into());
                    }
                };
            }
            Ok(Value::OomScoreAdj(values))
        }
        Special::NotifyKeyspaceEvents => {
            let [classes] = args else {
                return Err(WRONG_ARGS.into());
            };
            parse_keyspace_events(classes)
                .map(Value::KeyspaceEvents)
                .ok_or_else(|| "Invalid event class character. Use 'Ag$lshzxeKEtmdn'.".into())
        }
        Special::Bind => {
            if args.len() > 16 {
                return Err("Too many bind addresses specified.".into());
            }
            let addresses = match args {
                [b""] => Vec::new(),
                _ => args
                    .iter()
                    .map(|a| String::from_utf8_lossy(a).into_owned())
                    .collect(),
            };
            Ok(Value::Bind(addresses))
        }
        Special::ReplicaOf => {
            let [host, port] = args else {
                return Err(WRONG_ARGS.into());
            };
            if host.eq_ignore_ascii_case(b"no") && port.eq_ignore_ascii_case(b"one") {
                return Ok(Value::ReplicaOf(None));
            }
            let port = match c_strtoll(port, 10) {
                (n, true) => u16::try_from(n).map_err(|_| "Invalid master port")?,
                _ => return Err("Invalid master port".into()),
            };
            Ok(Value::ReplicaOf(Some((
                String::from_utf8_lossy(host).into_owned(),
                port,
            ))))
        }
        Special::LatencyTrackingInfoPercentiles => {
            if let [only] = args
                && only.is_empty()
            {
                return Ok(Value::Percentiles(Vec::new()));
            }
            let mut values = Vec::with_capacity(args.len());
            for arg in args {
                let p = crate::command::parse_f64(arg)
                    .ok_or("Invalid latency-tracking-info-percentiles parameters")?;
                if !(0.0..=100.0).contains(&p) {
                    return Err("latency-tracking-info-percentiles parameters should sit between [0.0,100.0]".into());
                }
                values.push(p);
            }
            Ok(Value::Percentiles(values))
        }
    }
}

fn parse_save(args: &[&[u8]]) -> Result<Vec<(u64, u64)>, String> {
    // A single "" means "no save points".
    let args = match args {
        [b""] => &[][..],
        _ => args,
    };
    if !args.len().is_multiple_of(2) {
        return Err(INVALID_SAVE.into());
    }
    let mut points = Vec::with_capacity(args.len() / 2);
    for pair in args.chunks(2) {
        let (seconds, changes) = match (c_strtoll(pair[0], 10), c_strtoll(pair[1], 10)) {
            ((s, true), (c, true)) if s >= 1 && c >= 0 => (s, c),
            _ => return Err(INVALID_SAVE.into()),
        };
        points.push((seconds.unsigned_abs(), changes.unsigned_abs()));
    }
    Ok(points)
}

fn parse_output_buffer_limits(
    args: &[&[u8]],
    limits: &mut [OutputBufferLimit; 3],
) -> Result<(), String> {
    if !args.len().is_multiple_of(4) {
        return Err("Wrong number of arguments in buffer limit configuration.".into());
    }
    let mut updated = *limits;
    for group in args.chunks(4) {
        let class = match group[0].to_ascii_lowercase().as_slice() {
            b"normal" => 0,
            b"slave" | b"replica" => 1,
            b"pubsub" => 2,
            _ => {
                return Err("Invalid client class specified in buffer limit configuration.".into());
            }
        };
        let (hard, soft, seconds) = match (
            parse_memory(group[1]),
            parse_memory(group[2]),
            c_strtoll(group[3], 10),
        ) {
            (Some(h), Some(s), (secs, true)) if secs >= 0 => (h, s, secs.unsigned_abs()),
            _ => {
                return Err(
                    "Error in hard, soft or soft_seconds setting in buffer limit configuration."
                        .into(),
                );
            }
        };
        updated[class] = OutputBufferLimit {
            hard_bytes: hard,
            soft_bytes: soft,
            soft_seconds: seconds,
        };
    }
    *limits = updated;
    Ok(())
}

/// Event class letters to flags; `None` on an unknown letter.
pub fn parse_keyspace_events(classes: &[u8]) -> Option<u32> {
    use keyspace_events::*;
    classes.iter().try_fold(0, |flags, c| {
        Some(
            flags
                | match c {
                    b'A' => ALL,
                    b'g' => GENERIC,
                    b'$' => STRING,
                    b'l' => LIST,
                    b's' => SET,
                    b'h' => HASH,
                    b'z' => ZSET,
                    b'x' => EXPIRED,
                    b'e' => EVICTED,
                    b'K' => KEYSPACE,
                    b'E' => KEYEVENT,
                    b't' => STREAM,
                    b'm' => KEY_MISS,
                    b'd' => MODULE,
                    b'n' => NEW,
                    _ => return None,
                },
        )
    })
}

/// Flags to event class letters, in Redis's canonical order.
pub fn format_keyspace_events(flags: u32) -> String {
    use keyspace_events::*;
    let mut out = String::new();
    if flags & ALL == ALL {
        out.push('A');
    } else {
        for (bit, c) in [
            (GENERIC, 'g'),
            (STRING, '$'),
            (LIST, 'l'),
            (SET, 's'),
            (HASH, 'h'),
            (ZSET, 'z'),
            (EXPIRED, 'x'),
            (EVICTED, 'e'),
            (STREAM, 't'),
            (MODULE, 'd'),
            (NEW, 'n'),
        ] {
            if flags & bit != 0 {
                out.push(c);
            }
        }
    }
    for (bit, c) in [(KEYSPACE, 'K'), (KEYEVENT, 'E'), (KEY_MISS, 'm')] {
        if flags & bit != 0 {
            out.push(c);
        }
    }
    out
}

/// The enum value's name; for flag sets, the names of its flags ("unknown" if none fit).
pub fn enum_name(names: &[(&str, u32)], value: u32, bitflags: bool) -> String {
    let mut parts: Vec<&str> = Vec::new();
    let mut unmatched = value;
    for (name, v) in names {
        if *v == value {
            return (*name).to_string();
        }
        if bitflags && *v != 0 && *v == unmatched & v {
            parts.push(name);
            unmatched &= !v;
        }
    }
    if parts.is_empty() || unmatched != 0 {
        "unknown".to_string()
    } else {
        parts.join(" ")
    }
}

/// The value as CONFIG GET shows it.
pub fn format(param: &Param, value: &Value) -> Vec<u8> {
    match value {
        Value::Bool(b) => {
            if *b {
                b"yes".to_vec()
            } else {
                b"no".to_vec()
            }
        }
        Value::Num(n) => match param.kind {
            Kind::Num {
                unit: Unit::MemoryOrPercent,
                ..
            } if *n < 0 => format!("{}%", -n).into_bytes(),
            Kind::Num {
                unit: Unit::Octal, ..
            } => format!("{n:o}").into_bytes(),
            _ => n.to_string().into_bytes(),
        },
        Value::Enum(v) => match param.kind {
            Kind::Enum { names, .. } => enum_name(names, *v, param.has(MULTI_ARG)).into_bytes(),
            _ => Vec::new(),
        },
        Value::Str(s) => s.clone().unwrap_or_default(),
        Value::Save(points) => points
            .iter()
            .map(|(s, c)| format!("{s} {c}"))
            .collect::<Vec<_>>()
            .join(" ")
            .into_bytes(),
        Value::Bind(addresses) => addresses.join(" ").into_bytes(),
        Value::ReplicaOf(Some((host, port))) => format!("{host} {port}").into_bytes(),
        Value::ReplicaOf(None) => Vec::new(),
        Value::OutputBufferLimits(limits) => OUTPUT_BUFFER_CLASSES
            .iter()
            .zip(limits)
            .map(|(class, l)| {
                format!(
                    "{class} {} {} {}",
                    l.hard_bytes, l.soft_bytes, l.soft_seconds
                )
            })
            .collect::<Vec<_>>()
            .join(" ")
            .into_bytes(),
        Value::OomScoreAdj(v) => format!("{} {} {}", v[0], v[1], v[2]).into_bytes(),
        Value::KeyspaceEvents(flags) => format_keyspace_events(*flags).into_bytes(),
        Value::Percentiles(values) => values
            .iter()
            .map(|p| format_percentile(*p))
            .collect::<Vec<_>>()
            .join(" ")
            .into_bytes(),
        Value::Dir(dir) => absolute_dir(dir).into_bytes(),
    }
}

/// `%f`, then trailing zeros (and a trailing dot) removed.
pub fn format_percentile(p: f64) -> String {
    let text = format!("{p:.6}");
    text.trim_end_matches('0').trim_end_matches('.').to_string()
}

/// `dir` as an absolute path, as Redis's `getcwd` shows it.
pub fn absolute_dir(dir: &str) -> String {
    std::fs::canonicalize(dir)
        .map_or_else(|_| dir.to_string(), |p| p.to_string_lossy().into_owned())
}

/// `strerror` text for an I/O error.
pub fn io_error_text(e: &std::io::Error) -> String {
    match e.kind() {
        std::io::ErrorKind::NotFound => "No such file or directory".into(),
        std::io::ErrorKind::PermissionDenied => "Permission denied".into(),
        std::io::ErrorKind::NotADirectory => "Not a directory".into(),
        std::io::ErrorKind::IsADirectory => "Is a directory".into(),
        _ => {
            let text = e.to_string();
            match text.find(" (os error") {
                Some(cut) => text[..cut].to_string(),
                None => text,
            }
        }
    }
}

/// Redis's `sdscatrepr`: the bytes in double quotes, with escapes, so `split_args` reads
/// them back unchanged.
pub fn repr(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len() + 2);
    out.push('"');
    for &b in bytes {
        match b {
            b'\\' => out.push_str("\\\\"),
            b'"' => out.push_str("\\\""),
            b'\n' => out.push_str("\\n"),
            b'\r' => out.push_str("\\r"),
            b'\t' => out.push_str("\\t"),
            0x07 => out.push_str("\\a"),
            0x08 => out.push_str("\\b"),
            0x20..=0x7e => out.push(char::from(b)),
            _ => out.push_str(&format!("\\x{b:02x}")),
        }
    }
    out.push('"');
    out
}
