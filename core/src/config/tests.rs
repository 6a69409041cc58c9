//! Unit tests for the parameter table, loading and CONFIG GET/SET/REWRITE.

use super::*;

fn args(list: &[&str]) -> Vec<String> {
    list.iter().map(|s| (*s).to_string()).collect()
}

fn load_err(list: &[&str]) -> String {
    match Config::from_args(&args(list)) {
        Err(e) => e.to_string(),
        Ok(_) => "ok".to_string(),
    }
}

fn get(config: &Config, name: &str) -> String {
    String::from_utf8(config.get(name).expect("known")).expect("utf8")
}

#[test]
fn command_line_options_become_config_lines() {
    let (config, file) = Config::from_args(&args(&[
        "--port",
        "7777",
        "--save",
        "100",
        "100",
        "--maxmemory 700mb",
    ]))
    .unwrap();
    assert_eq!(file, None);
    assert_eq!(config.port, 7777);
    assert_eq!(config.save, vec![(100, 100)]);
    assert_eq!(get(&config, "maxmemory"), "734003200");
}

fn file_err(text: &str) -> String {
    let mut config = Config::default();
    match config.load_text(text.as_bytes()) {
        Err(e) => e.to_string(),
        Ok(()) => "ok".to_string(),
    }
}

fn fatal(line_number: usize, line: &str, reason: &str) -> String {
    format!(
        "\n*** FATAL CONFIG FILE ERROR (Redis 7.0.15) ***\nReading the configuration file, at line {line_number}\n>>> '{line}'\n{reason}"
    )
}

#[test]
fn the_table_has_every_redis_parameter_once() {
    // src/config.c `configs[]` of 7.0.15 has 179 entries.
    assert_eq!(table::PARAMS.len(), 179);
    let mut names: Vec<&str> = table::PARAMS
        .iter()
        .flat_map(|p| std::iter::once(p.name).chain(p.alias))
        .collect();
    let count = names.len();
    names.sort_unstable();
    names.dedup();
    assert_eq!(names.len(), count);
    // CONFIG GET * on redis-server 7.0.15 lists 192 names (hidden ones excluded).
    assert_eq!(Config::default().get_matching("*").len(), 192);
}

#[test]
fn defaults_are_formatted_like_redis() {
    let config = Config::default();
    for (name, shown) in [
        ("save", "3600 1 300 100 60 10000"),
        (
            "client-output-buffer-limit",
            "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60",
        ),
        ("bind", "* -::*"),
        ("oom-score-adj-values", "0 200 800"),
        ("latency-tracking-info-percentiles", "50 99 99.9"),
        ("proc-title-template", "{title} {listen-addr} {server-mode}"),
        ("unixsocketperm", "0"),
        ("proto-max-bulk-len", "536870912"),
        ("syslog-facility", "local0"),
        ("acl-pubsub-default", "resetchannels"),
        ("shutdown-on-sigint", "default"),
        ("notify-keyspace-events", ""),
        ("slaveof", ""),
        ("appendfilename", "appendonly.aof"),
        ("pidfile", ""),
    ] {
        assert_eq!(get(&config, name), shown, "{name}");
    }
}

#[test]
fn typed_fields_follow_the_table() {
    let mut config = Config::default();
    config.set("port", &[b"7000"]).unwrap();
    config.set("slaveof", &[b"10.0.0.1", b"6380"]).unwrap();
    config.set("unixsocketperm", &[b"700"]).unwrap();
    config.set("enable-debug-command", &[b"local"]).unwrap();
    config.set("loglevel", &[b"WARNING"]).unwrap();
    assert_eq!(config.port, 7000);
    assert_eq!(config.replicaof, Some(("10.0.0.1".to_string(), 6380)));
    assert_eq!(config.unixsocketperm, 0o700);
    assert_eq!(config.enable_debug_command, ProtectedAccess::Local);
    assert_eq!(config.loglevel, "warning");
    assert_eq!(get(&config, "replicaof"), "10.0.0.1 6380");
    assert_eq!(get(&config, "unixsocketperm"), "700");
    config.port = 7001;
    assert_eq!(get(&config, "port"), "7001");
    assert_eq!(
        config.set("unixsocketperm", &[b"1000"]),
        Err(SetError::Invalid(
            "argument must be between 0 and 777 inclusive".into()
        ))
    );
    assert_eq!(
        config.set("unixsocketperm", &[b"9"]),
        Err(SetError::Invalid(
            "argument couldn't be parsed as an octal number".into()
        ))
    );
    assert_eq!(config.set("nosuch", &[b"1"]), Err(SetError::Unknown));
}

#[test]
fn config_file_syntax() {
    let mut config = Config::default();
    let text = "# comment\n\n  PORT 7001  \r\nrequirepass \"a b\\x41\"\nsave 900 1\nsave 300 10\n\
                slave-read-only no\nlist-max-ziplist-entries 5\nrename-command KEYS \"\"\n\
                user alice on >pw\nmy.module.param 1 2\nsentinel\nshutdown-on-sigterm \"nosave now\"\n";
    config.load_text(text.as_bytes()).unwrap();
    assert_eq!(config.port, 7001);
    assert_eq!(config.requirepass.as_deref(), Some(&b"a bA"[..]));
    assert_eq!(config.save, vec![(900, 1), (300, 10)]);
    assert_eq!(get(&config, "replica-read-only"), "no");
    assert_eq!(
        config.rename_commands,
        vec![("KEYS".to_string(), String::new())]
    );
    assert_eq!(
        config.users,
        vec![vec![
            "alice".to_string(),
            "on".to_string(),
            ">pw".to_string()
        ]]
    );
    assert_eq!(
        config.module_configs,
        vec![("my.module.param".to_string(), "1 2".to_string())]
    );
    assert_eq!(get(&config, "shutdown-on-sigterm"), "nosave now");
}

#[test]
fn config_file_errors_are_redis_texts() {
    assert_eq!(
        file_err("port 1\nfoo bar"),
        fatal(2, "foo bar", "Bad directive or wrong number of arguments")
    );
    assert_eq!(
        file_err("port 1 2"),
        fatal(1, "port 1 2", "wrong number of arguments")
    );
    assert_eq!(
        file_err("  port  "),
        fatal(1, "port", "wrong number of arguments")
    );
    assert_eq!(
        file_err("port x"),
        fatal(1, "port x", "argument couldn't be parsed into an integer")
    );
    assert_eq!(
        file_err("port 70000"),
        fatal(
            1,
            "port 70000",
            "argument must be between 0 and 65535 inclusive"
        )
    );
    assert_eq!(
        file_err("daemonize maybe"),
        fatal(1, "daemonize maybe", "argument must be 'yes' or 'no'")
    );
    assert_eq!(
        file_err("save 1 2 3"),
        fatal(1, "save 1 2 3", "Invalid save parameters")
    );
    assert_eq!(
        file_err("port \"1"),
        fatal(1, "port \"1", "Unbalanced quotes in configuration line")
    );
    assert_eq!(
        file_err("loglevel loud"),
        fatal(
            1,
            "loglevel loud",
            "argument(s) must be one of the following: debug, verbose, notice, warning"
        )
    );
    assert_eq!(
        file_err("maxmemory lots"),
        fatal(1, "maxmemory lots", "argument must be a memory value")
    );
    assert_eq!(
        file_err("replicaof h x"),
        fatal(1, "replicaof h x", "Invalid master port")
    );
    assert_eq!(
        file_err("sentinel monitor"),
        fatal(
            1,
            "sentinel monitor",
            "sentinel directive while not in sentinel mode"
        )
    );
    assert_eq!(
        file_err("mod.param"),
        fatal(1, "mod.param", "Module config specified without value")
    );
    assert_eq!(
        file_err("notify-keyspace-events Q"),
        fatal(
            1,
            "notify-keyspace-events Q",
            "Invalid event class character. Use 'Ag$lshzxeKEtmdn'."
        )
    );
    assert_eq!(
        file_err("client-output-buffer-limit master 1 1 1"),
        fatal(
            1,
            "client-output-buffer-limit master 1 1 1",
            "Invalid client class specified in buffer limit configuration."
        )
    );
    assert_eq!(
        file_err("oom-score-adj-values 1 2"),
        fatal(1, "oom-score-adj-values 1 2", "wrong number of arguments")
    );
}

#[test]
fn command_line_forms() {
    assert_eq!(CommandLine::parse(&args(&["-v"])), CommandLine::Version);
    assert_eq!(CommandLine::parse(&args(&["--help"])), CommandLine::Help);
    let CommandLine::Run(run) = CommandLine::parse(&args(&["--port", "6380", "--save", "", "-"]))
    else {
        panic!("run")
    };
    assert_eq!(run.options, "port \"6380\" \nsave \"\" ");
    assert!(run.config_from_stdin);
    let CommandLine::Run(run) = CommandLine::parse(&args(&["--save", "--loglevel", "verbose"]))
    else {
        panic!("run")
    };
    assert_eq!(run.options, "save \"\"\nloglevel \"verbose\" ");

    let (config, _) = Config::from_args(&args(&["--loglevel", "verbose", "--save"])).unwrap();
    assert_eq!(
        (config.save.len(), config.loglevel.as_str()),
        (0, "verbose")
    );
    let (config, _) = Config::from_args(&args(&[
        "--proc-title-template",
        "--save",
        "--save",
        "",
        "--loglevel",
        "verbose",
    ]))
    .unwrap();
    assert_eq!(get(&config, "proc-title-template"), "--save");
    assert!(config.save.is_empty());
    let (config, _) = Config::from_args(&args(&[
        "--maxmemory '700mb'",
        "--maxmemory-policy 'volatile-lru'",
    ]))
    .unwrap();
    assert_eq!(
        (config.maxmemory, config.maxmemory_policy),
        (734_003_200, MaxmemoryPolicy::VolatileLru)
    );
    let (config, _) = Config::from_args(&args(&[
        "--shutdown-on-sigint",
        "nosave",
        "force",
        "now",
        "--shutdown-on-sigterm",
        "nosave force",
    ]))
    .unwrap();
    assert_eq!(get(&config, "shutdown-on-sigint"), "nosave now force");
    assert_eq!(get(&config, "shutdown-on-sigterm"), "nosave force");
}

#[test]
fn command_line_errors_quote_the_generated_line() {
    assert_eq!(
        load_err(&["--port"]),
        fatal(2, "port", "wrong number of arguments")
    );
    assert_eq!(
        load_err(&["--port", "6379", "6380"]),
        fatal(2, "port \"6379\" \"6380\"", "wrong number of arguments")
    );
    assert_eq!(
        load_err(&["--port", "--bla", "--loglevel", "verbose"]),
        fatal(
            2,
            "port \"--bla\"",
            "argument couldn't be parsed into an integer"
        )
    );
    assert!(
        load_err(&["--logfile", "--my--log--file", "--loglevel", "--bla"])
            .contains("'loglevel \"--bla\"'")
    );
    assert!(load_err(&["--shutdown-on-sigint"]).ends_with(
        ">>> 'shutdown-on-sigint'\nargument(s) must be one of the following: default, save, nosave, now, force"
    ));
    assert_eq!(
        load_err(&["--replicaof", "--127.0.0.1", "--abc"]),
        fatal(2, "replicaof \"--127.0.0.1\"", "wrong number of arguments")
    );
    assert!(matches!(
        Config::from_args(&args(&["--version"])),
        Err(ConfigLoadError::NotARun(CommandLine::Version))
    ));
}

#[test]
fn config_file_then_options_and_include() {
    let dir = std::env::temp_dir().join(format!("oxidis-config-load-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let main = dir.join("main.conf");
    let extra = dir.join("extra.conf");
    std::fs::write(&extra, "maxmemory 2mb\nbogus\n").unwrap();
    std::fs::write(&main, format!("save 900 1\ninclude {}\n", extra.display())).unwrap();
    let error = load_err(&[main.to_str().unwrap()]);
    assert_eq!(
        error,
        fatal(2, "bogus", "Bad directive or wrong number of arguments")
    );
    std::fs::write(&extra, "maxmemory 2mb\n").unwrap();
    let (config, file) =
        Config::from_args(&args(&[main.to_str().unwrap(), "--save", "100", "100"])).unwrap();
    assert_eq!(file.as_deref(), Some(main.as_path()));
    assert_eq!(config.config_file.as_deref(), Some(main.as_path()));
    assert_eq!(config.maxmemory, 2 * 1024 * 1024);
    assert_eq!(get(&config, "save"), "900 1 100 100");
    let missing = dir.join("missing.conf");
    assert_eq!(
        load_err(&[missing.to_str().unwrap()]),
        format!(
            "Fatal error, can't open config file '{}': No such file or directory",
            missing.display()
        )
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

#[test]
fn rewrite_of_an_empty_file_writes_only_changes() {
    let mut config = Config::default();
    config.set("maxmemory", &[b"3gb"]).unwrap();
    config.set("save", &[b""]).unwrap();
    config
        .set(
            "client-output-buffer-limit",
            &[b"pubsub", b"64mb", b"16mb", b"30"],
        )
        .unwrap();
    config.set("requirepass", &[b"p\"w"]).unwrap();
    config.set("bind", &[b"127.0.0.1"]).unwrap();
    let cwd = std::env::current_dir().unwrap();
    assert_eq!(
        config.rewrite_content("", false),
        format!(
            "# Generated by CONFIG REWRITE\nrequirepass \"p\\\"w\"\nmaxmemory 3gb\ndir \"{}\"\nsave \"\"\n\
             client-output-buffer-limit pubsub 64mb 16mb 30\nbind 127.0.0.1\n\
             latency-tracking-info-percentiles 50 99 99.9\n",
            cwd.display()
        )
    );
    // What is written reads back to the same values.
    let mut reread = Config::default();
    reread
        .load_text(config.rewrite_content("", true).as_bytes())
        .unwrap();
    for (name, value) in config.get_matching("*") {
        if name != "dir" {
            assert_eq!(reread.get(&name), Some(value), "{name}");
        }
    }
}
