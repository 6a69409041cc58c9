//! Loading like `redis-server`: the command line (`redis-server [file] [--name value ...] [-]`)
//! becomes config-file lines appended after the file and standard input, and the whole text is
//! read with `redis.conf` syntax (one directive per line, `split_args` quoting, `#` comments,
//! `include`, case-insensitive names). Errors carry Redis's exact texts.

use std::path::{Path, PathBuf};

use super::table::{self, MULTI_ARG, PARAMS};
use super::value::{io_error_text, repr};
use super::{Config, SetError};
use crate::REDIS_VERSION;
use crate::glob::{Case, glob_match};

/// What the command line asks for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum CommandLine {
    /// `-v` / `--version`: print the version and exit 0.
    Version,
    /// `-h` / `--help`: print the usage and exit 1.
    Help,
    /// `--test-memory <megabytes>` (the argument, if exactly one was given).
    TestMemory(Option<String>),
    /// `--check-system`.
    CheckSystem,
    /// Run the server with this configuration.
    Run(RunArgs),
}

/// Where the configuration of a server run comes from.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct RunArgs {
    /// The config file (absolute path), if the first argument named one.
    pub config_file: Option<PathBuf>,
    /// `-` was given: read more configuration from standard input.
    pub config_from_stdin: bool,
    /// The `--name value` options as config-file lines, read after the file and stdin.
    pub options: String,
    /// Whether any argument was given (Redis reads no configuration at all without one).
    pub has_args: bool,
}

/// Why the configuration could not be loaded. `Display` gives Redis's exact text; the binary
/// prints it to stderr (with a final newline) and exits 1.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigLoadError {
    /// A bad line.
    #[error(
        "\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\nReading the configuration file, at line {line_number}\n>>> '{line}'\n{reason}"
    )]
    Directive {
        /// 1-based line number in the text being read.
        line_number: usize,
        /// The line, trimmed.
        line: String,
        /// Redis's reason text.
        reason: String,
    },
    /// A check after all lines were read (log file, replicaof in cluster mode).
    #[error("\n*** FATAL CONFIG FILE ERROR (Redis {REDIS_VERSION}) ***\n{reason}")]
    Final {
        /// Redis's reason text.
        reason: String,
    },
    /// A config file (or an included one) cannot be read.
    #[error("Fatal error, can't open config file '{path}': {reason}")]
    CannotOpen {
        /// The path as given.
        path: String,
        /// `strerror` text.
        reason: String,
    },
    /// The command line asked for something other than running (`-v`, `-h`, ...).
    #[error("not a server run: {0:?}")]
    NotARun(CommandLine),
}

impl CommandLine {
    /// Parses the arguments after the program name exactly as `redis-server`'s `main` does.
    pub fn parse(args: &[String]) -> CommandLine {
        let Some(first) = args.first() else {
            return CommandLine::Run(RunArgs::default());
        };
        match first.as_str() {
            "-v" | "--version" => return CommandLine::Version,
            "--help" | "-h" => return CommandLine::Help,
            "--test-memory" => {
                return CommandLine::TestMemory((args.len() == 2).then(|| args[1].clone()));
            }
            "--check-system" => return CommandLine::CheckSystem,
            _ => {}
        }
        let mut run = RunArgs {
            has_args: true,
            ..RunArgs::default()
        };
        let mut j = 0;
        if !first.starts_with('-') {
            run.config_file = Some(absolute_path(first));
            j = 1;
        }
        let last = args.len() - 1;
        let mut handled_last_config_arg = true;
        while j < args.len() {
            let arg = &args[j];
            let next_is_option = j != last && args[j + 1].starts_with("--");
            if arg == "-" && (j == 0 || j == last) {
                run.config_from_stdin = true;
            } else if handled_last_config_arg && arg.starts_with("--") {
                // `--name` starts a new line; a single argument may also hold "--name value".
                if !run.options.is_empty() {
                    run.options.push('\n');
                }
                run.options.push_str(&arg[2..]);
                run.options.push(' ');
                let words = oxidis_protocol::split_args(arg.as_bytes()).map_or(0, |w| w.len());
                if words == 1 {
                    handled_last_config_arg = false;
                    // `--save` with no value means `save ""` (pre-7.0.1 compatibility).
                    if arg.eq_ignore_ascii_case("--save") && (next_is_option || j == last) {
                        run.options.push_str("\"\"");
                        handled_last_config_arg = next_is_option;
                    } else if arg.eq_ignore_ascii_case("--sentinel") && next_is_option {
                        handled_last_config_arg = true;
                    }
                } else {
                    handled_last_config_arg = true;
                }
            } else {
                run.options.push_str(&repr(arg.as_bytes()));
                run.options.push(' ');
                handled_last_config_arg = true;
            }
            j += 1;
        }
        CommandLine::Run(run)
    }
}

/// Redis's `getAbsolutePath`: relative paths are taken from the current directory.
fn absolute_path(path: &str) -> PathBuf {
    let path = Path::new(path);
    if path.is_absolute() {
        return path.to_path_buf();
    }
    std::env::current_dir().map_or_else(|_| path.to_path_buf(), |cwd| cwd.join(path))
}

impl Config {
    /// Loads the configuration from the arguments after the program name, as `redis-server`
    /// does: returns the configuration and the config file it was read from (also stored in
    /// `config_file`). `-` reads standard input.
    ///
    /// # Errors
    /// [`ConfigLoadError::NotARun`] for `-v`, `-h`, `--test-memory`, `--check-system` (the
    /// binary handles those, see [`CommandLine::parse`]); otherwise Redis's fatal error.
    pub fn from_args(args: &[String]) -> Result<(Config, Option<PathBuf>), ConfigLoadError> {
        match CommandLine::parse(args) {
            CommandLine::Run(run) => {
                let stdin = if run.config_from_stdin {
                    let mut text = String::new();
                    // An unreadable stdin reads as empty, as fgets would.
                    let _ = std::io::Read::read_to_string(&mut std::io::stdin(), &mut text);
                    Some(text)
                } else {
                    None
                };
                let config = Config::from_run(&run, stdin.as_deref())?;
                let file = config.config_file.clone();
                Ok((config, file))
            }
            other => Err(ConfigLoadError::NotARun(other)),
        }
    }

    /// Loads a configuration from parsed run arguments, with `stdin` as the text standard
    /// input held (when `-` was given).
    ///
    /// # Errors
    /// Redis's fatal config errors.
    pub fn from_run(run: &RunArgs, stdin: Option<&str>) -> Result<Config, ConfigLoadError> {
        let mut config = Config::default();
        if !run.has_args {
            return Ok(config);
        }
        let mut text = Vec::new();
        if let Some(path) = &run.config_file {
            text = read_config_file(path)?;
        }
        if let Some(stdin) = stdin {
            text.extend_from_slice(stdin.as_bytes());
        }
        text.push(b'\n');
        text.extend_from_slice(run.options.as_bytes());
        config.config_file.clone_from(&run.config_file);
        config.load_text_with(&text, &mut false)?;
        config.finish_loading()?;
        Ok(config)
    }

    /// Reads `redis.conf`-syntax text into this configuration (no final checks).
    ///
    /// # Errors
    /// [`ConfigLoadError::Directive`] for the first bad line.
    pub fn load_text(&mut self, text: &[u8]) -> Result<(), ConfigLoadError> {
        self.load_text_with(text, &mut false)
    }

    fn load_text_with(&mut self, text: &[u8], save_seen: &mut bool) -> Result<(), ConfigLoadError> {
        for (i, raw) in text.split(|&b| b == b'\n').enumerate() {
            let line = trim(raw);
            if line.is_empty() || line[0] == b'#' {
                continue;
            }
            self.load_line(line, save_seen).map_err(|e| match e {
                LineError::Reason(reason) => ConfigLoadError::Directive {
                    line_number: i + 1,
                    line: String::from_utf8_lossy(line).into_owned(),
                    reason,
                },
                LineError::Included(inner) => inner,
            })?;
        }
        Ok(())
    }

    /// The checks Redis makes once every line is read.
    fn finish_loading(&mut self) -> Result<(), ConfigLoadError> {
        if !self.logfile.is_empty()
            && let Err(e) = std::fs::OpenOptions::new()
                .append(true)
                .create(true)
                .open(&self.logfile)
        {
            return Err(ConfigLoadError::Final {
                reason: format!("Can't open the log file: {}", io_error_text(&e)),
            });
        }
        if self.get("cluster-enabled").as_deref() == Some(b"yes") && self.replicaof.is_some() {
            return Err(ConfigLoadError::Final {
                reason: "replicaof directive not allowed in cluster mode".into(),
            });
        }
        Ok(())
    }

    /// One non-empty, non-comment line; the error is Redis's reason text.
    fn load_line(&mut self, line: &[u8], save_seen: &mut bool) -> Result<(), LineError> {
        let argv = oxidis_protocol::split_args(line)
            .ok_or_else(|| LineError::Reason("Unbalanced quotes in configuration line".into()))?;
        let Some(name) = argv.first() else {
            return Ok(());
        };
        let name = String::from_utf8_lossy(name).to_ascii_lowercase();
        let args: Vec<&[u8]> = argv[1..].iter().map(Vec::as_slice).collect();
        if let Some((index, _)) = table::lookup(&name) {
            let multi = PARAMS[index].has(MULTI_ARG);
            if !multi && args.len() != 1 {
                return Err(LineError::Reason("wrong number of arguments".into()));
            }
            let result = match args.as_slice() {
                // `--shutdown-on-sigint "nosave now"`: one argument holding several.
                [only] if multi && !only.is_empty() => {
                    let split = oxidis_protocol::split_args(only).unwrap_or_default();
                    let split: Vec<&[u8]> = split.iter().map(Vec::as_slice).collect();
                    self.set_from_file(index, &split, save_seen)
                }
                _ => self.set_from_file(index, &args, save_seen),
            };
            return match result {
                Err(SetError::Invalid(reason)) => Err(LineError::Reason(reason)),
                Err(SetError::Unknown) | Ok(()) => Ok(()),
            };
        }
        let argc = argv.len();
        let text = |i: usize| String::from_utf8_lossy(&argv[i]).into_owned();
        match name.as_str() {
            // Removed parameters Redis still tolerates.
            "list-max-ziplist-entries" | "list-max-ziplist-value" | "lua-replicate-commands"
                if argc == 2 => {}
            "include" if argc == 2 => self.include(&text(1), save_seen)?,
            "rename-command" if argc == 3 => self.rename_commands.push((text(1), text(2))),
            "user" if argc >= 2 => self.users.push((1..argc).map(text).collect()),
            "loadmodule" if argc >= 2 => self.load_modules.push((1..argc).map(text).collect()),
            _ if name.contains('.') => {
                if argc < 2 {
                    return Err(LineError::Reason(
                        "Module config specified without value".into(),
                    ));
                }
                let value: Vec<String> = (1..argc).map(text).collect();
                self.module_configs.push((name.clone(), value.join(" ")));
            }
            "sentinel" => {
                if argc != 1 {
                    return Err(LineError::Reason(
                        "sentinel directive while not in sentinel mode".into(),
                    ));
                }
            }
            _ => {
                return Err(LineError::Reason(
                    "Bad directive or wrong number of arguments".into(),
                ));
            }
        }
        Ok(())
    }

    /// `include path`: the file (or every file a glob pattern matches) is read in place.
    fn include(&mut self, pattern: &str, save_seen: &mut bool) -> Result<(), LineError> {
        let paths = if pattern.contains(['*', '?', '[']) {
            glob_files(pattern)
        } else {
            vec![PathBuf::from(pattern)]
        };
        for path in paths {
            let text = read_config_file(&path).map_err(LineError::Included)?;
            // An error inside the included file is reported against that file's lines.
            self.load_text_with(&text, save_seen)
                .map_err(LineError::Included)?;
        }
        Ok(())
    }
}

/// Why one line failed: a reason for this line, or an included file's own error.
enum LineError {
    Reason(String),
    Included(ConfigLoadError),
}

/// The files matching a glob in its last path component, sorted; none is not an error.
fn glob_files(pattern: &str) -> Vec<PathBuf> {
    let path = Path::new(pattern);
    let dir = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let Some(file_pattern) = path.file_name().map(|f| f.to_string_lossy().into_owned()) else {
        return Vec::new();
    };
    let mut found: Vec<PathBuf> = std::fs::read_dir(dir)
        .map(|entries| {
            entries
                .filter_map(Result::ok)
                .filter(|e| {
                    let name = e.file_name();
                    let name = name.to_string_lossy();
                    !name.starts_with('.')
                        && glob_match(file_pattern.as_bytes(), name.as_bytes(), Case::Sensitive)
                })
                .map(|e| dir.join(e.file_name()))
                .collect()
        })
        .unwrap_or_default();
    found.sort();
    found
}

fn read_config_file(path: &Path) -> Result<Vec<u8>, ConfigLoadError> {
    std::fs::read(path).map_err(|e| ConfigLoadError::CannotOpen {
        path: path.to_string_lossy().into_owned(),
        reason: io_error_text(&e),
    })
}

/// `sdstrim(line, " \t\r\n")`.
fn trim(line: &[u8]) -> &[u8] {
    let is_blank = |b: &u8| matches!(b, b' ' | b'\t' | b'\r' | b'\n');
    let start = line.iter().position(|b| !is_blank(b)).unwrap_or(line.len());
    let end = line
        .iter()
        .rposition(|b| !is_blank(b))
        .map_or(start, |e| e + 1);
    &line[start..end.max(start)]
}
