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
    let (config, file) = Config::from_args(&args(&["--port", "7777", "--save", "100", "100", "--maxmemory 700mb"])).unwrap();
    assert_eq!(file, None);
    assert_eq!(config.port, 7777);
    assert_eq!(config.save, vec![(100, 100)]);
    assert_eq!(get(&config, "maxmemory"), "734003200");
}
