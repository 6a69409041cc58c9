//! LATENCY LATEST, HISTORY, RESET, GRAPH, DOCTOR, HISTOGRAM and HELP over the state in
//! [`crate::latency`].

use std::fmt::Write as _;

use bytes::Bytes;
use oxidis_protocol::Frame;

use crate::command::{Arg, Args, Arity, Command, CommandResult, CommandSpec, Flag::*};
use crate::context::CommandContext;
use crate::errors::CommandError;
use crate::errors::server::no_latency_samples;
use crate::families::{count_reply, help_reply};
use crate::latency::{EventSeries, Histogram};

const LATENCY_TIPS: &[&str] = &[
    "nondeterministic_output",
    "request_policy:all_nodes",
    "response_policy:special",
];

/// The LATENCY container.
pub(super) const LATENCY: CommandSpec = CommandSpec::container(
    "latency",
    &[
        CommandSpec::new("doctor", Arity::Exact(2), latency_doctor)
            .flags(&[Admin, NoScript, Loading, Stale])
            .tips(LATENCY_TIPS)
            .doc(
                "Returns a human-readable latency analysis report.",
                "2.8.13",
                "O(1)",
            ),
        CommandSpec::new("graph", Arity::Exact(3), latency_graph)
            .flags(&[Admin, NoScript, Loading, Stale])
            .tips(LATENCY_TIPS)
            .doc("Returns a latency graph for an event.", "2.8.13", "O(1)")
            .args(&[Arg::string("event")]),
        CommandSpec::new("help", Arity::Exact(2), latency_help)
            .flags(&[Loading, Stale])
            .doc("Lists LATENCY's subcommands.", "2.8.13", "O(1)"),
        CommandSpec::new("histogram", Arity::AtLeast(2), latency_histogram)
            .flags(&[Admin, NoScript, Loading, Stale])
            .tips(LATENCY_TIPS)
            .doc(
                "Returns the cumulative distribution of latencies of a subset or all commands.",
                "7.0.0",
                "O(N) where N is the number of commands with latency information being retrieved.",
            )
            .args(&[Arg::string("command").optional().multiple()]),
        CommandSpec::new("history", Arity::Exact(3), latency_history)
            .flags(&[Admin, NoScript, Loading, Stale])
            .tips(LATENCY_TIPS)
            .doc(
                "Returns timestamp-latency samples for an event.",
                "2.8.13",
                "O(1)",
            )
            .args(&[Arg::string("event")]),
        CommandSpec::new("latest", Arity::Exact(2), latency_latest)
            .flags(&[Admin, NoScript, Loading, Stale])
            .tips(LATENCY_TIPS)
            .doc(
                "Returns the latest latency samples for all events.",
                "2.8.13",
                "O(1)",
            ),
        CommandSpec::new("reset", Arity::AtLeast(2), latency_reset)
            .flags(&[Admin, NoScript, Loading, Stale])
            .tips(&["request_policy:all_nodes", "response_policy:all_succeeded"])
            .doc(
                "Resets the latency data for one or more events.",
                "2.8.13",
                "O(1)",
            )
            .args(&[Arg::string("event").optional().multiple()]),
    ],
)
.doc(
    "A container for latency diagnostics commands.",
    "2.8.13",
    "Depends on subcommand.",
);

fn latency_doctor(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    let threshold = ctx.config().latency_monitor_threshold;
    let text = doctor_report(&ctx.server.latency.events, threshold);
    Ok(verbatim(text))
}

fn latency_graph(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let event = args.next_bytes()?;
    let name = String::from_utf8_lossy(event);
    let Some(series) = ctx.server.latency.events.get(name.as_ref()) else {
        return Err(CommandError::custom(no_latency_samples(&name)));
    };
    let now = ctx.now_ms() / 1000;
    Ok(verbatim(graph(&name, series, now)))
}

fn latency_help(_ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    Ok(help_reply(
        "LATENCY",
        &[
            "DOCTOR",
            "    Return a human readable latency analysis report.",
            "GRAPH <event>",
            "    Return an ASCII latency graph for the <event> class.",
            "HISTORY <event>",
            "    Return time-latency samples for the <event> class.",
            "LATEST",
            "    Return the latest latency samples for all events.",
            "RESET [<event> ...]",
            "    Reset latency data of one or more <event> classes.",
            "    (default: reset all data for all event classes)",
            "HISTOGRAM [COMMAND ...]",
            "    Return a cumulative distribution of latencies in the format of a histogram for the specified command names.",
            "    If no commands are specified then all histograms are replied.",
        ],
    ))
}

/// LATENCY HISTOGRAM [command ...]: for each command (and, for a container, each of its
/// subcommands) that has run since the last reset, its calls and cumulative distribution.
/// Unknown names are skipped.
fn latency_histogram(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let names = args.rest();
    let table = &ctx.server.table;
    let mut commands: Vec<&'static Command> = Vec::new();
    if names.is_empty() {
        let mut all: Vec<&'static Command> = table.iter().collect();
        all.sort_by_key(|c| c.spec.name);
        for command in all {
            commands.push(command);
            commands.extend(command.subcommands.iter().copied());
        }
    } else {
        for name in names {
            // `container|sub` names one subcommand; a container name covers its subcommands.
            let found = match name.iter().position(|&b| b == b'|') {
                Some(bar) => table
                    .get(&name[..bar])
                    .and_then(|c| c.subcommand(&name[bar + 1..])),
                None => table.get(name),
            };
            if let Some(command) = found {
                commands.push(command);
                commands.extend(command.subcommands.iter().copied());
            }
        }
    }
    let latency = &ctx.server.latency;
    let entries = commands
        .into_iter()
        .filter_map(|c| Some((c, latency.histogram(c.id)?)))
        .map(|(c, h)| (Frame::bulk(c.full_name.as_bytes()), histogram_reply(h)))
        .collect();
    Ok(Frame::Map(entries))
}

fn latency_history(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let event = String::from_utf8_lossy(args.next_bytes()?).into_owned();
    let samples = ctx
        .server
        .latency
        .events
        .get(&event)
        .map(|series| {
            series
                .samples()
                .map(|s| Frame::Array(vec![count_reply(s.time_unix), count_reply(s.latency_ms)]))
                .collect()
        })
        .unwrap_or_default();
    Ok(Frame::Array(samples))
}

fn latency_latest(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    let events = ctx
        .server
        .latency
        .events
        .iter()
        .map(|(name, series)| {
            let latest = series.latest();
            Frame::Array(vec![
                Frame::bulk(name.as_bytes()),
                count_reply(latest.time_unix),
                count_reply(latest.latency_ms),
                count_reply(series.max_ms),
            ])
        })
        .collect();
    Ok(Frame::Array(events))
}

/// LATENCY RESET [event ...]: the number of event series removed.
fn latency_reset(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let names = args.rest();
    let latency = &mut ctx.server.latency;
    let removed = if names.is_empty() {
        latency.reset_events(None)
    } else {
        names
            .iter()
            .map(|n| latency.reset_events(Some(&String::from_utf8_lossy(n))))
            .sum()
    };
    Ok(count_reply(removed))
}

fn histogram_reply(histogram: &Histogram) -> Frame {
    let buckets = histogram
        .cumulative()
        .into_iter()
        .map(|(micros, count)| (count_reply(micros), count_reply(count)))
        .collect();
    Frame::Map(vec![
        (Frame::bulk("calls"), count_reply(histogram.total())),
        (Frame::bulk("histogram_usec"), Frame::Map(buckets)),
    ])
}

fn verbatim(text: String) -> Frame {
    Frame::Verbatim {
        format: *b"txt",
        text: Bytes::from(text),
    }
}

/// Rows of the graph; each row shows two levels (`_` for the lower half, `#` for full).
const GRAPH_ROWS: usize = 4;
/// Width of the graph's rule.
const GRAPH_COLUMNS: usize = 80;

/// LATENCY GRAPH's text: a title line, a rule, bars for each sample (newest right) scaled
/// between the lowest and highest sample, and under each bar how long ago it was, written
/// top to bottom.
fn graph(event: &str, series: &EventSeries, now_unix: u64) -> String {
    let samples: Vec<_> = series.samples().collect();
    let max = samples.iter().map(|s| s.latency_ms).max().unwrap_or(0);
    let min = samples.iter().map(|s| s.latency_ms).min().unwrap_or(0);
    let mut out = format!(
        "{event} - high {max} ms, low {min} ms (all time high {} ms)\n",
        series.max_ms
    );
    out.push_str(&"-".repeat(GRAPH_COLUMNS));
    out.push('\n');
    let levels = GRAPH_ROWS * 2;
    let level_of = |v: u64| -> usize {
        if max == min {
            levels
        } else {
            let scaled = (v - min) * (levels as u64 - 1) / (max - min) + 1;
            usize::try_from(scaled).unwrap_or(levels)
        }
    };
    for row in (0..GRAPH_ROWS).rev() {
        let line: String = samples
            .iter()
            .map(|s| {
                let level = level_of(s.latency_ms);
                if level >= (row + 1) * 2 {
                    '#'
                } else if level == row * 2 + 1 {
                    '_'
                } else {
                    ' '
                }
            })
            .collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    let labels: Vec<String> = samples
        .iter()
        .map(|s| age_label(now_unix.saturating_sub(s.time_unix)))
        .collect();
    let height = labels.iter().map(String::len).max().unwrap_or(0);
    for row in 0..height {
        let line: String = labels
            .iter()
            .map(|l| l.as_bytes().get(row).map_or(' ', |&b| char::from(b)))
            .collect();
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// How long ago, in the largest whole unit: `12s`, `3m`, `5h`, `2d`.
fn age_label(seconds: u64) -> String {
    match seconds {
        s if s < 60 => format!("{s}s"),
        s if s < 3600 => format!("{}m", s / 60),
        s if s < 86_400 => format!("{}h", s / 3600),
        s => format!("{}d", s / 86_400),
    }
}

/// LATENCY DOCTOR's report: per event, how many spikes, their average and mean deviation, how
/// often they came and the worst ever, then general advice for the kinds of events seen.
fn doctor_report(
    events: &std::collections::BTreeMap<String, EventSeries>,
    threshold: u64,
) -> String {
    let mut out = String::new();
    if threshold == 0 && events.is_empty() {
        out.push_str(
            "Latency monitoring is disabled (latency-monitor-threshold is 0), so there is \
             nothing to analyse. Enable it with CONFIG SET latency-monitor-threshold <milliseconds>.\n",
        );
        return out;
    }
    if events.is_empty() {
        out.push_str(
            "No latency spike above the configured threshold was recorded since the server \
             started or since the last LATENCY RESET.\n",
        );
        return out;
    }
    out.push_str("Latency spikes recorded, by event:\n\n");
    for (number, (name, series)) in events.iter().enumerate() {
        let samples: Vec<_> = series.samples().collect();
        let count = samples.len() as u64;
        let sum: u64 = samples.iter().map(|s| s.latency_ms).sum();
        let average = sum.checked_div(count).unwrap_or(0);
        let deviation = samples
            .iter()
            .map(|s| s.latency_ms.abs_diff(average))
            .sum::<u64>()
            .checked_div(count)
            .unwrap_or(0);
        let first = samples.first().map_or(0, |s| s.time_unix);
        let last = samples.last().map_or(0, |s| s.time_unix);
        let period = (last - first)
            .checked_div(count.saturating_sub(1))
            .unwrap_or(0);
        let _ = writeln!(
            out,
            "{}. {name}: {count} latency spikes (average {average}ms, mean deviation \
             {deviation}ms, period {period} sec). Worst all time event {}ms.",
            number + 1,
            series.max_ms
        );
    }
    out.push_str("\nAdvice:\n\n");
    if events.keys().any(|e| e == "command") {
        out.push_str(
            "- Slow commands are being run: look at SLOWLOG GET for the commands and arguments \
             involved, and avoid O(N) commands on large values.\n",
        );
    }
    if events.keys().any(|e| e == "fast-command") {
        out.push_str(
            "- Even O(1) and O(log N) commands were slow: the server may be starved of CPU \
             or swapping.\n",
        );
    }
    if events.keys().any(|e| e.starts_with("expire")) {
        out.push_str(
            "- Many keys expire at the same moment: spread expiry times over a wider window.\n",
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use crate::testing::{CommandRunner, bulk, err};
    use oxidis_protocol::Frame;

    #[test]
    fn histogram_lists_commands_that_ran() {
        let mut r = CommandRunner::with_builtin_commands();
        r.run(["CONFIG", "RESETSTAT"]);
        r.run(["SET", "a", "b"]);
        r.run(["CLIENT", "ID"]);
        let Frame::Map(all) = r.run(["LATENCY", "HISTOGRAM", "set", "client", "nosuch"]) else {
            panic!("not a map");
        };
        let names: Vec<_> = all.iter().map(|(k, _)| k.clone()).collect();
        assert_eq!(names, [bulk("set"), bulk("client|id")]);
        let Frame::Map(fields) = &all[0].1 else {
            panic!("not a map");
        };
        assert_eq!(fields[0], (bulk("calls"), Frame::Integer(1)));
    }

    #[test]
    fn events_need_the_threshold() {
        let mut r = CommandRunner::with_builtin_commands();
        assert_eq!(r.run(["LATENCY", "LATEST"]), Frame::Array(vec![]));
        assert_eq!(
            r.run(["LATENCY", "HISTORY", "command"]),
            Frame::Array(vec![])
        );
        assert_eq!(r.run(["LATENCY", "RESET", "nosuch"]), Frame::Integer(0));
        assert_eq!(
            r.run(["LATENCY", "GRAPH", "command"]),
            err("ERR No samples available for event 'command'")
        );
        r.server.latency.add_sample("command", 1000, 250);
        r.server.latency.add_sample("command", 1001, 300);
        let Frame::Array(latest) = r.run(["LATENCY", "LATEST"]) else {
            panic!("not an array");
        };
        assert_eq!(
            latest[0],
            Frame::Array(vec![
                bulk("command"),
                Frame::Integer(1001),
                Frame::Integer(300),
                Frame::Integer(300)
            ])
        );
        assert!(matches!(
            r.run(["LATENCY", "GRAPH", "command"]),
            Frame::Verbatim { .. }
        ));
        assert!(matches!(
            r.run(["LATENCY", "DOCTOR"]),
            Frame::Verbatim { .. }
        ));
        assert_eq!(r.run(["LATENCY", "RESET"]), Frame::Integer(1));
    }
}
