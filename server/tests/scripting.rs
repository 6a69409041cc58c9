//! Scripts against the real binary: a busy script makes other clients wait with `BUSY`, and
//! SCRIPT KILL / FUNCTION KILL stop it, even when its loop runs inside a coroutine.

mod support;

use std::time::{Duration, Instant};

use support::ServerProcess;

/// Runs `script` on its own connection (it never ends by itself), waits until another client
/// gets `BUSY`, kills it with `kill` (SCRIPT KILL or FUNCTION KILL), and returns the error the
/// script's caller got; the server answers again afterwards.
fn kill_busy(server: &ServerProcess, command: &[&str], kill: &[&str]) -> String {
    let mut runner = server.connect().expect("connect");
    // A script that is never stopped fails the test instead of hanging it.
    runner
        .set_read_timeout(Some(Duration::from_secs(30)))
        .expect("read timeout");
    let command: Vec<String> = command.iter().map(|s| s.to_string()).collect();
    let running = std::thread::spawn(move || {
        let mut cmd = redis::cmd(&command[0]);
        for arg in &command[1..] {
            cmd.arg(arg);
        }
        cmd.query::<redis::Value>(&mut runner)
            .expect_err("a killed script fails")
            .to_string()
    });
    let mut con = server.connect().expect("connect");
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        match redis::cmd("PING").query::<String>(&mut con) {
            Err(e) if e.code() == Some("BUSY") => break,
            _ => {
                assert!(Instant::now() < deadline, "the script never became busy");
                std::thread::sleep(Duration::from_millis(10));
            }
        }
    }
    let mut cmd = redis::cmd(kill[0]);
    cmd.arg(kill[1]);
    assert_eq!(cmd.query::<String>(&mut con).expect("kill"), "OK");
    let error = running.join().expect("the script's caller");
    // As in Redis, the kill is asynchronous: a client may still see BUSY for a moment.
    while redis::cmd("PING").query::<String>(&mut con).ok().as_deref() != Some("PONG") {
        assert!(Instant::now() < deadline, "the server stayed busy");
        std::thread::sleep(Duration::from_millis(10));
    }
    error
}

#[test]
fn script_kill_stops_a_loop_even_inside_a_coroutine() {
    let server = ServerProcess::start_with(&["--busy-reply-threshold", "50"]);
    for body in [
        "while true do end",
        "coroutine.wrap(function() while true do end end)() return 1",
    ] {
        let error = kill_busy(&server, &["EVAL", body, "0"], &["SCRIPT", "KILL"]);
        assert!(
            error.contains("Script killed by user with SCRIPT KILL"),
            "{body}: {error}"
        );
    }
}

#[test]
fn function_kill_stops_a_function_looping_in_a_coroutine() {
    let server = ServerProcess::start_with(&["--busy-reply-threshold", "50"]);
    let mut con = server.connect().expect("connect");
    let library = "#!lua name=spin\n\
                   redis.register_function{function_name='spin', \
                   callback=function() coroutine.wrap(function() while true do end end)() end, \
                   flags={'no-writes'}}";
    let loaded: String = redis::cmd("FUNCTION")
        .arg("LOAD")
        .arg(library)
        .query(&mut con)
        .expect("FUNCTION LOAD");
    assert_eq!(loaded, "spin");
    let error = kill_busy(&server, &["FCALL", "spin", "0"], &["FUNCTION", "KILL"]);
    assert!(
        error.contains("Script killed by user with FUNCTION KILL"),
        "{error}"
    );
}
