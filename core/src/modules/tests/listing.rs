//! The loaded modules as clients see them: MODULE LIST's maps (shared with HELLO), COMMAND
//! LIST FILTERBY MODULE and COMMAND DOCS's `module` field.

use super::*;

fn echo(_ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    Ok(Frame::Bulk(args.next_bytes()?.clone()))
}

/// A runner where module `mymod` (loaded with two arguments) registered `mymod.echo`.
fn runner_with_module() -> CommandRunner {
    let mut r = CommandRunner::with_builtin_commands();
    let mut spec = CommandSpec::new("mymod.echo", Arity::Exact(2), echo).flags(&[Flag::Fast]);
    spec.group = crate::command::Group::Module;
    r.server.table.register(spec).expect("registers");
    r.server.modules.loaded.push(LoadedModule {
        name: "mymod".into(),
        version: 3,
        path: "/tmp/libmymod.so".into(),
        args: vec![Bytes::from_static(b"a1"), Bytes::from_static(b"2")],
        commands: vec!["mymod.echo".into()],
    });
    r
}

fn module_map() -> Frame {
    Frame::Map(vec![
        (bulk("name"), bulk("mymod")),
        (bulk("ver"), Frame::Integer(3)),
        (bulk("path"), bulk("/tmp/libmymod.so")),
        (bulk("args"), Frame::Array(vec![bulk("a1"), bulk("2")])),
    ])
}

#[test]
fn hello_lists_loaded_modules_as_module_list_does() {
    let mut r = runner_with_module();
    assert_eq!(
        r.server.modules.list_reply(),
        Frame::Array(vec![module_map()])
    );
    let Frame::Map(fields) = r.run(["HELLO", "3"]) else {
        panic!("HELLO answers a map");
    };
    let modules = fields
        .into_iter()
        .find(|(k, _)| *k == bulk("modules"))
        .map(|(_, v)| v);
    assert_eq!(modules, Some(Frame::Array(vec![module_map()])));
    r.server.modules.loaded.clear();
    let Frame::Map(fields) = r.run(["HELLO"]) else {
        panic!("HELLO answers a map");
    };
    assert!(fields.contains(&(bulk("modules"), Frame::Array(vec![]))));
}

#[test]
fn command_list_filters_by_module() {
    let mut r = runner_with_module();
    assert_eq!(
        r.run(["COMMAND", "LIST", "FILTERBY", "MODULE", "mymod"]),
        Frame::Array(vec![bulk("mymod.echo")])
    );
    // Module names compare case-insensitively, as in Redis's module dictionary.
    assert_eq!(
        r.run(["COMMAND", "LIST", "FILTERBY", "MODULE", "MyMod"]),
        Frame::Array(vec![bulk("mymod.echo")])
    );
    assert_eq!(
        r.run(["COMMAND", "LIST", "FILTERBY", "MODULE", "nosuchmodule"]),
        Frame::Array(vec![])
    );
    assert_eq!(r.run(["MYMOD.ECHO", "hi"]), bulk("hi"));
}

#[test]
fn command_docs_name_the_module() {
    let mut r = runner_with_module();
    let Frame::Map(entries) = r.run(["COMMAND", "DOCS", "mymod.echo"]) else {
        panic!("COMMAND DOCS answers a map");
    };
    let Some((_, Frame::Map(docs))) = entries.into_iter().next() else {
        panic!("one entry");
    };
    assert!(docs.contains(&(bulk("module"), bulk("mymod"))), "{docs:?}");
    assert!(docs.contains(&(bulk("group"), bulk("module"))), "{docs:?}");
    // Built-in commands name none.
    let Frame::Map(entries) = r.run(["COMMAND", "DOCS", "get"]) else {
        panic!("COMMAND DOCS answers a map");
    };
    assert!(!format!("{entries:?}").contains("\"module\""));
}
