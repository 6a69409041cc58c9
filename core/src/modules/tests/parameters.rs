//! Module configuration parameters.

use super::*;

#[test]
fn module_configs_in_config_get_and_set() {
    let mut r = CommandRunner::with_builtin_commands();
    let applied: Seen = Arc::default();
    let log = Arc::clone(&applied);
    let configs = &mut r.server.modules.configs;
    configs
        .register(ConfigSpec {
            module: "mymod".into(),
            name: "enabled".into(),
            kind: ConfigKind::Bool { default: true },
            flags: 0,
            on_set: Some(Box::new(move |name, value| {
                log.lock().expect("lock").push(format!("{name}={value:?}"));
                Ok(())
            })),
            on_apply: None,
        })
        .expect("registers");
    configs
        .register(ConfigSpec {
            module: "mymod".into(),
            name: "limit".into(),
            kind: ConfigKind::Numeric {
                default: 10,
                min: 0,
                max: 100,
            },
            flags: 0,
            on_set: None,
            on_apply: None,
        })
        .expect("registers");
    configs
        .register(ConfigSpec {
            module: "mymod".into(),
            name: "mode".into(),
            kind: ConfigKind::Enum {
                default: 1,
                names: vec![("fast".into(), 1), ("safe".into(), 2)],
            },
            flags: 0,
            on_set: None,
            on_apply: None,
        })
        .expect("registers");
    configs
        .register(ConfigSpec {
            module: "mymod".into(),
            name: "fixed".into(),
            kind: ConfigKind::String { default: None },
            flags: flags::IMMUTABLE,
            on_set: None,
            on_apply: None,
        })
        .expect("registers");
    assert_eq!(
        configs.register(ConfigSpec {
            module: "mymod".into(),
            name: "limit".into(),
            kind: ConfigKind::Bool { default: true },
            flags: 0,
            on_set: None,
            on_apply: None,
        }),
        Err(config::ConfigRegistryError::Exists)
    );
    let pairs =
        |items: &[&str]| Frame::Map(items.chunks(2).map(|p| (bulk(p[0]), bulk(p[1]))).collect());
    assert_eq!(
        r.run(["CONFIG", "GET", "mymod.*"]),
        pairs(&[
            "mymod.enabled",
            "yes",
            "mymod.limit",
            "10",
            "mymod.mode",
            "fast",
            "mymod.fixed",
            ""
        ])
    );
    assert_eq!(
        r.run([
            "CONFIG",
            "SET",
            "mymod.limit",
            "50",
            "maxmemory",
            "1mb",
            "mymod.mode",
            "safe"
        ]),
        Frame::ok()
    );
    assert_eq!(
        r.run(["CONFIG", "GET", "mymod.limit", "mymod.mode", "maxmemory"]),
        pairs(&[
            "maxmemory",
            "1048576",
            "mymod.limit",
            "50",
            "mymod.mode",
            "safe"
        ])
    );
    // All or nothing: a bad module value leaves the built-in one unchanged.
    assert_eq!(
        r.run(["CONFIG", "SET", "maxmemory", "2mb", "mymod.limit", "500"]),
        err(
            "ERR CONFIG SET failed (possibly related to argument 'mymod.limit') - argument must be between 0 and 100 inclusive"
        )
    );
    assert_eq!(r.server.config.maxmemory, 1_048_576);
    assert_eq!(
        r.run(["CONFIG", "SET", "mymod.enabled", "maybe"]),
        err(
            "ERR CONFIG SET failed (possibly related to argument 'mymod.enabled') - argument must be 'yes' or 'no'"
        )
    );
    assert_eq!(
        r.run(["CONFIG", "SET", "mymod.fixed", "x"]),
        err(
            "ERR CONFIG SET failed (possibly related to argument 'mymod.fixed') - can't set immutable config"
        )
    );
    assert_eq!(
        r.run(["CONFIG", "SET", "mymod.mode", "other"]),
        err(
            "ERR CONFIG SET failed (possibly related to argument 'mymod.mode') - argument(s) must be one of the following: fast, safe"
        )
    );
    assert_eq!(r.run(["CONFIG", "SET", "mymod.enabled", "no"]), Frame::ok());
    assert_eq!(
        *applied.lock().expect("lock"),
        vec!["mymod.enabled=Bool(false)"]
    );
    assert_eq!(
        r.server.modules.configs.rewrite_lines(),
        vec![
            ("mymod.enabled".to_string(), "no".to_string(), true),
            ("mymod.limit".to_string(), "50".to_string(), true),
            ("mymod.mode".to_string(), "safe".to_string(), true),
            ("mymod.fixed".to_string(), "\"\"".to_string(), false),
        ]
    );
    let rewritten = r.server.config.rewrite_content_with(
        "port 6379\nmymod.limit 20\nmymod.fixed abc\n",
        false,
        &r.server.modules.configs.rewrite_lines(),
    );
    assert!(rewritten.contains("mymod.limit 50\n"), "{rewritten}");
    assert!(rewritten.contains("mymod.enabled no\n"), "{rewritten}");
    assert!(!rewritten.contains("???"), "{rewritten}");
    // CONFIG REWRITE writes them into the file the server started with.
    let path = std::env::temp_dir().join(format!(
        "oxidis-modconfig-{}-{:?}.conf",
        std::process::id(),
        std::thread::current().id()
    ));
    std::fs::write(&path, "port 6379\nmymod.limit 20\n").expect("writes");
    r.server.config.config_file = Some(path.clone());
    assert_eq!(r.run(["CONFIG", "REWRITE"]), Frame::ok());
    let text = std::fs::read_to_string(&path).expect("reads");
    let _ = std::fs::remove_file(&path);
    assert!(text.starts_with("port 6379\nmymod.limit 50\n"), "{text}");
    assert!(text.contains("\nmymod.enabled no\n"), "{text}");
    assert!(text.contains("\nmymod.mode safe\n"), "{text}");
    assert!(!text.contains("mymod.fixed"), "{text}");
    forget_owner(&mut r.server, "mymod").expect("no types");
    assert_eq!(r.run(["CONFIG", "GET", "mymod.*"]), Frame::Map(vec![]));
}

#[test]
fn queued_config_file_values_apply_when_the_module_loads() {
    let mut r = CommandRunner::with_builtin_commands();
    r.server.config.module_configs = vec![
        ("mymod.limit".into(), "7".into()),
        ("other.x".into(), "1".into()),
    ];
    let numeric = |name: &str| ConfigSpec {
        module: "mymod".into(),
        name: name.into(),
        kind: ConfigKind::Numeric {
            default: 1,
            min: 0,
            max: 100,
        },
        flags: flags::IMMUTABLE,
        on_set: None,
        on_apply: None,
    };
    r.server
        .modules
        .configs
        .register(numeric("limit"))
        .expect("registers");
    r.server
        .modules
        .configs
        .register(numeric("depth"))
        .expect("registers");
    config::load_queued(
        &mut r.server,
        "mymod",
        &[("mymod.depth".into(), b"9".to_vec())],
    )
    .expect("applies");
    assert_eq!(
        r.server.modules.configs.get("mymod.limit"),
        Some(b"7".to_vec())
    );
    assert_eq!(
        r.server.modules.configs.get("mymod.depth"),
        Some(b"9".to_vec())
    );
    assert_eq!(
        r.server.config.module_configs,
        vec![("other.x".to_string(), "1".to_string())]
    );
    assert!(
        config::load_queued(
            &mut r.server,
            "mymod",
            &[("mymod.nope".into(), b"1".to_vec())]
        )
        .is_err()
    );
}
