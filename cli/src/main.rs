//! `oxidis-cli`: a command-line client that looks and behaves like `redis-cli` 7.0.
//!
//! - [`connection`]: the blocking socket, request encoding and reply reading.
//! - [`format`]: redis-cli's TTY and raw reply rendering.
//! - [`session`]: connect/AUTH/SELECT/HELLO, and the send-print loop shared by every mode.
//! - [`repl`]: the interactive prompt.
//! - [`pipe`]: `--pipe` mass insertion.
//!
//! The mode is chosen as redis-cli chooses it: `--pipe` streams stdin; a command on the command
//! line runs once (or `-r` times); otherwise commands are read from the terminal or from stdin.

mod connection;
mod format;
mod pipe;
mod repl;
mod session;

use std::ffi::OsString;
use std::io::{IsTerminal, Read};
use std::os::unix::ffi::OsStringExt;
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::Duration;

use anyhow::{Context, bail};
use clap::{ArgAction, Parser};

use connection::Target;
use format::{Formatter, OutputMode};
use session::Session;

/// Command-line options, named and defaulted as redis-cli's.
#[derive(Debug, Parser)]
#[command(
    name = "oxidis-cli",
    version,
    about = "A redis-cli work-alike for Oxidis and Redis 7.0 servers",
    disable_help_flag = true,
    disable_version_flag = true,
    override_usage = "oxidis-cli [OPTIONS] [cmd [arg [arg ...]]]"
)]
struct Args {
    /// Server hostname.
    #[arg(short = 'h', value_name = "hostname", default_value = "127.0.0.1")]
    host: String,
    /// Server port.
    #[arg(short = 'p', value_name = "port", default_value_t = 6379)]
    port: u16,
    /// Server socket (overrides hostname and port).
    #[arg(short = 's', value_name = "socket")]
    socket: Option<PathBuf>,
    /// Password to use when connecting to the server (also from the REDISCLI_AUTH environment
    /// variable).
    #[arg(short = 'a', long = "pass", value_name = "password")]
    password: Option<OsString>,
    /// Used to send ACL style 'AUTH username pass'. Needs -a.
    #[arg(long = "user", value_name = "username")]
    user: Option<OsString>,
    /// Server URI: redis://[user[:password]@]host[:port][/db].
    #[arg(short = 'u', value_name = "uri")]
    uri: Option<String>,
    /// Database number.
    #[arg(short = 'n', value_name = "db")]
    db: Option<i64>,
    /// Start session in RESP2 protocol mode.
    #[arg(short = '2')]
    resp2: bool,
    /// Start session in RESP3 protocol mode (HELLO 3).
    #[arg(short = '3')]
    resp3: bool,
    /// Execute the specified command N times (negative: forever).
    #[arg(
        short = 'r',
        value_name = "repeat",
        default_value_t = 1,
        allow_negative_numbers = true
    )]
    repeat: i64,
    /// When -r is used, waits <interval> seconds per command (fractions allowed, e.g. -i 0.1).
    #[arg(short = 'i', value_name = "interval")]
    interval: Option<f64>,
    /// Read the last argument from STDIN.
    #[arg(short = 'x')]
    stdin_last_arg: bool,
    /// Delimiter between responses for raw formatting (default: \n).
    #[arg(short = 'd', value_name = "delimiter")]
    multibulk_delim: Option<OsString>,
    /// Delimiter between responses for raw formatting (default: \n).
    #[arg(short = 'D', value_name = "delimiter")]
    command_delim: Option<OsString>,
    /// Return exit error code when command execution fails.
    #[arg(short = 'e')]
    exit_on_error: bool,
    /// Use raw formatting for replies (default when STDOUT is not a tty).
    #[arg(long, overrides_with = "no_raw")]
    raw: bool,
    /// Force formatted output even when STDOUT is not a tty.
    #[arg(long, overrides_with = "raw")]
    no_raw: bool,
    /// Whether to print RESP3 PUSH messages (y/n); enabled by default when STDOUT is a tty.
    #[arg(long, value_name = "yn")]
    show_pushes: Option<String>,
    /// Transfer raw Redis protocol from stdin to server.
    #[arg(long)]
    pipe: bool,
    /// In --pipe mode, abort with error if after sending all data no reply is received within
    /// <n> seconds (0 disables the timeout).
    #[arg(long, value_name = "n", default_value_t = 30)]
    pipe_timeout: u64,
    /// Don't show the warning message when using a password on the command line.
    #[arg(long)]
    no_auth_warning: bool,
    /// Output this help and exit.
    #[arg(long, action = ArgAction::Help)]
    help: Option<bool>,
    /// Output version and exit.
    #[arg(short = 'v', long, action = ArgAction::Version)]
    version: Option<bool>,
    /// The command to run, then its arguments.
    #[arg(
        trailing_var_arg = true,
        allow_hyphen_values = true,
        value_name = "cmd"
    )]
    command: Vec<OsString>,
}

/// The parts of a `redis://` URI.
#[derive(Debug, Default, PartialEq, Eq)]
struct Uri {
    user: Option<String>,
    password: Option<String>,
    host: Option<String>,
    port: Option<u16>,
    db: Option<i64>,
}

/// Parses `redis://[[user]:password@]host[:port][/db]`.
fn parse_uri(uri: &str) -> anyhow::Result<Uri> {
    let Some(rest) = uri.strip_prefix("redis://") else {
        bail!("Invalid URI scheme");
    };
    let mut out = Uri::default();
    let (authority, path) = rest.split_once('/').unwrap_or((rest, ""));
    let host_port = match authority.rsplit_once('@') {
        Some((userinfo, host_port)) => {
            match userinfo.split_once(':') {
                Some((user, password)) => {
                    out.user = (!user.is_empty()).then(|| user.to_string());
                    out.password = Some(password.to_string());
                }
                None => out.password = Some(userinfo.to_string()),
            }
            host_port
        }
        None => authority,
    };
    let (host, port) = match host_port.rsplit_once(':') {
        Some((host, port)) => (host, Some(port.parse().context("Invalid port in URI")?)),
        None => (host_port, None),
    };
    out.host = (!host.is_empty()).then(|| {
        host.trim_start_matches('[')
            .trim_end_matches(']')
            .to_string()
    });
    out.port = port;
    if !path.is_empty() {
        out.db = Some(path.parse().context("Invalid database in URI")?);
    }
    Ok(out)
}

fn run(args: Args) -> anyhow::Result<ExitCode> {
    let stdout_tty = std::io::stdout().is_terminal() || std::env::var_os("FAKETTY").is_some();
    let mode = if args.no_raw {
        OutputMode::Tty
    } else if args.raw || !stdout_tty {
        OutputMode::Raw
    } else {
        OutputMode::Tty
    };
    let mut formatter = Formatter::new(mode);
    if let Some(d) = args.multibulk_delim {
        formatter.multibulk_delim = d.into_vec();
    }
    if let Some(d) = args.command_delim {
        formatter.command_delim = d.into_vec();
    }

    let mut host = args.host;
    let mut port = args.port;
    let mut user = args.user.map(OsStringExt::into_vec);
    let mut password = args.password.map(OsStringExt::into_vec);
    let mut db = args.db;
    if let Some(uri) = &args.uri {
        let uri = parse_uri(uri)?;
        host = uri.host.unwrap_or(host);
        port = uri.port.unwrap_or(port);
        user = uri.user.map(String::into_bytes).or(user);
        password = uri.password.map(String::into_bytes).or(password);
        db = uri.db.or(db);
    }
    if password.is_some() && !args.no_auth_warning {
        eprintln!(
            "Warning: Using a password with '-a' or '-u' option on the command line interface may not be safe."
        );
    }
    if password.is_none() {
        password = std::env::var_os("REDISCLI_AUTH").map(OsStringExt::into_vec);
    }

    let target = match args.socket {
        Some(path) => Target::Unix(path),
        None => Target::Tcp { host, port },
    };
    let mut session = Session::new(target, formatter);
    session.user = user;
    session.password = password;
    session.input_db = db.unwrap_or(0);
    session.resp3 = args.resp3 && !args.resp2;
    session.exit_on_error = args.exit_on_error;
    session.push_output = match args.show_pushes.as_deref().map(str::to_ascii_lowercase) {
        Some(v) if v.starts_with('n') => false,
        Some(v) if v.starts_with('y') => true,
        _ => stdout_tty,
    };
    session.interval = args
        .interval
        .filter(|s| *s > 0.0)
        .map(Duration::from_secs_f64);

    if args.pipe {
        if !session.connect(false, false) {
            return Ok(ExitCode::FAILURE);
        }
        let conn = session.conn.take().context("not connected")?;
        let outcome = pipe::run(
            conn,
            std::io::stdin(),
            Duration::from_secs(args.pipe_timeout),
        )?;
        return Ok(if outcome.errors > 0 {
            ExitCode::FAILURE
        } else {
            ExitCode::SUCCESS
        });
    }

    if args.command.is_empty() {
        session.connect(false, false);
        if std::io::stdin().is_terminal() {
            repl::run_terminal(&mut session)?;
        } else {
            repl::run_piped(&mut session)?;
        }
        return Ok(ExitCode::SUCCESS);
    }

    let mut argv: Vec<Vec<u8>> = args
        .command
        .into_iter()
        .map(OsStringExt::into_vec)
        .collect();
    if args.stdin_last_arg {
        let mut last = Vec::new();
        std::io::stdin()
            .read_to_end(&mut last)
            .context("reading stdin")?;
        argv.push(last);
    }
    session.connect(false, true);
    Ok(if session.issue(&argv, args.repeat) {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(args) {
        Ok(code) => code,
        Err(e) => {
            eprintln!("Error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn uri_parsing() {
        let uri = parse_uri("redis://user:secret@example.com:7000/3").unwrap();
        assert_eq!(
            uri,
            Uri {
                user: Some("user".into()),
                password: Some("secret".into()),
                host: Some("example.com".into()),
                port: Some(7000),
                db: Some(3),
            }
        );
        let uri = parse_uri("redis://:pw@localhost").unwrap();
        assert_eq!(uri.user, None);
        assert_eq!(uri.password.as_deref(), Some("pw"));
        assert_eq!(uri.port, None);
        assert!(parse_uri("http://x").is_err());
    }

    #[test]
    fn options_then_command() {
        let args = Args::try_parse_from([
            "oxidis-cli",
            "-h",
            "10.0.0.1",
            "-p",
            "7000",
            "-n",
            "2",
            "incrby",
            "x",
            "-1",
        ])
        .unwrap();
        assert_eq!(args.host, "10.0.0.1");
        assert_eq!(args.port, 7000);
        assert_eq!(args.db, Some(2));
        assert_eq!(args.command, ["incrby", "x", "-1"]);
        // Options after the command belong to the command.
        let args = Args::try_parse_from(["oxidis-cli", "get", "--raw"]).unwrap();
        assert!(!args.raw);
        assert_eq!(args.command, ["get", "--raw"]);
        let args =
            Args::try_parse_from(["oxidis-cli", "-3", "--raw", "--no-raw", "-r", "-1", "ping"])
                .unwrap();
        assert!(args.resp3 && args.no_raw && !args.raw);
        assert_eq!(args.repeat, -1);
    }
}
