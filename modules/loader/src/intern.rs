//! Interned `'static` data for run-time command specs (which the table keeps as `&'static`):
//! each distinct string or key-spec list is leaked once per process, so reloading a module
//! allocates nothing new.

use std::collections::HashSet;
use std::sync::Mutex;

use oxidis_core::command::KeySpec;

/// `text` as a `'static` string, leaked the first time it is seen.
pub fn str(text: &str) -> &'static str {
    static STRINGS: Mutex<Option<HashSet<&'static str>>> = Mutex::new(None);
    let mut guard = STRINGS.lock().unwrap_or_else(|e| e.into_inner());
    let set = guard.get_or_insert_with(HashSet::new);
    if let Some(found) = set.get(text) {
        return found;
    }
    let leaked: &'static str = Box::leak(text.to_string().into_boxed_str());
    set.insert(leaked);
    leaked
}

/// `specs` as a `'static` slice, leaked the first time an equal list is seen.
pub fn key_specs(specs: Vec<KeySpec>) -> &'static [KeySpec] {
    static LISTS: Mutex<Vec<&'static [KeySpec]>> = Mutex::new(Vec::new());
    if specs.is_empty() {
        return &[];
    }
    let mut lists = LISTS.lock().unwrap_or_else(|e| e.into_inner());
    if let Some(found) = lists.iter().find(|l| **l == specs.as_slice()) {
        return found;
    }
    let leaked: &'static [KeySpec] = Box::leak(specs.into_boxed_slice());
    lists.push(leaked);
    leaked
}
