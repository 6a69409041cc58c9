//! `CommandTable`: the one registry of commands. Built-in families, persistence, scripting and
//! modules all add commands through [`CommandTable::register`], and dispatch, `COMMAND` and ACLs
//! only ever find commands here.

use std::collections::HashMap;

/// Command names hash with foldhash: dispatch looks one up per command.
type NameMap = HashMap<Box<[u8]>, &'static Command, foldhash::fast::RandomState>;

use super::spec::{
    AclCategory, BeginSearch, CommandSpec, Family, FindKeys, Flag, Handler, KeyFlag,
};

/// A registered command: its spec plus what is derived from it once, at registration.
#[derive(Clone)]
pub struct Command {
    /// The declared facts.
    pub spec: CommandSpec,
    /// `get`, or `config|get` for a subcommand.
    pub full_name: String,
    /// Dense id, for per-command statistics.
    pub id: usize,
    /// [`Flag`] bits, `movablekeys` included when the key specs call for it.
    pub flags: u32,
    /// [`AclCategory`] bits: the group's, the flags', and any declared extras.
    pub acl_categories: u32,
    /// Legacy (first key, last key, step), as `COMMAND INFO` shows them.
    pub legacy_keys: (i64, i64, i64),
    /// Subcommands, for a container.
    pub subcommands: Vec<&'static Command>,
    /// The container, for a subcommand.
    pub parent: Option<&'static str>,
}

impl Command {
    /// Whether the command has `flag`.
    pub fn has(&self, flag: Flag) -> bool {
        self.flags & flag.bit() != 0
    }

    /// The [`Flag`] bits for this invocation: the declared ones, or what the command's
    /// [`super::spec::FlagsFn`] makes of them for `argv` (EVAL and FCALL of a script that
    /// declared `no-writes` do not write).
    pub fn effective_flags(&self, server: &crate::server::Server, argv: &[bytes::Bytes]) -> u32 {
        match self.spec.flags_fn {
            Some(f) => f(server, argv, self.flags),
            None => self.flags,
        }
    }

    /// Finds a subcommand by name, ASCII case-insensitively.
    pub fn subcommand(&self, name: &[u8]) -> Option<&'static Command> {
        self.subcommands
            .iter()
            .copied()
            .find(|c| c.spec.name.as_bytes().eq_ignore_ascii_case(name))
    }
}

impl std::fmt::Debug for Command {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Command")
            .field("name", &self.full_name)
            .finish()
    }
}

/// Why a command could not be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum RegistrationError {
    /// A command of that name exists already.
    #[error("a command named '{0}' is already registered")]
    Duplicate(String),
    /// Names are lower case ASCII without spaces or `|`.
    #[error("'{0}' is not a valid command name")]
    InvalidName(String),
}

/// Every command the server knows, looked up by name.
#[derive(Default)]
pub struct CommandTable {
    by_name: NameMap,
    count: usize,
    /// Commands removed by [`CommandTable::unregister`], by name: registering the same command
    /// again (a module reloaded) reuses the entry instead of leaking a new one.
    retired: NameMap,
}

impl std::fmt::Debug for CommandTable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CommandTable")
            .field("commands", &self.by_name.len())
            .finish()
    }
}

impl CommandTable {
    /// An empty table.
    pub fn new() -> CommandTable {
        CommandTable::default()
    }

    /// A table holding every built-in family.
    pub fn with_builtins() -> CommandTable {
        let mut table = CommandTable::new();
        for family in crate::families::BUILTIN {
            table
                .register_family(family)
                .expect("built-in command names are unique");
        }
        table
    }

    /// Registers every command of a family, each in the family's group.
    ///
    /// # Errors
    /// See [`CommandTable::register`].
    pub fn register_family(&mut self, family: &Family) -> Result<(), RegistrationError> {
        for spec in family.commands {
            self.register(spec.group(family.group))?;
        }
        Ok(())
    }

    /// Adds one command (and its subcommands). The command lives as long as the process: a
    /// registered command is never freed, so dispatch can hold it without reference counting.
    ///
    /// # Errors
    /// [`RegistrationError::Duplicate`] if the name is taken, [`RegistrationError::InvalidName`]
    /// for a name that is not lower-case ASCII.
    pub fn register(&mut self, spec: CommandSpec) -> Result<(), RegistrationError> {
        validate_name(spec.name)?;
        if self.by_name.contains_key(spec.name.as_bytes()) {
            return Err(RegistrationError::Duplicate(spec.name.to_string()));
        }
        if let Some(old) = self.retired.get(spec.name.as_bytes()).copied()
            && same_command(&old.spec, &spec)
        {
            self.retired.remove(spec.name.as_bytes());
            self.by_name
                .insert(spec.name.as_bytes().to_vec().into_boxed_slice(), old);
            return Ok(());
        }
        let mut subcommands = Vec::with_capacity(spec.subcommands.len());
        for sub in spec.subcommands {
            validate_name(sub.name)?;
            let sub = sub.group(spec.group);
            let command = self.build(sub, format!("{}|{}", spec.name, sub.name), Some(spec.name));
            subcommands.push(&*Box::leak(Box::new(command)));
        }
        let mut command = self.build(spec, spec.name.to_string(), None);
        command.subcommands = subcommands;
        let command: &'static Command = Box::leak(Box::new(command));
        self.by_name
            .insert(spec.name.as_bytes().to_vec().into_boxed_slice(), command);
        Ok(())
    }

    fn build(
        &mut self,
        spec: CommandSpec,
        full_name: String,
        parent: Option<&'static str>,
    ) -> Command {
        let id = self.count;
        self.count += 1;
        let (legacy_keys, movable) = legacy_key_range(&spec);
        let flags = spec.flags | if movable { Flag::MovableKeys.bit() } else { 0 };
        Command {
            spec,
            full_name,
            id,
            flags,
            acl_categories: acl_categories(&spec),
            legacy_keys,
            subcommands: Vec::new(),
            parent,
        }
    }

    /// Removes a top-level command registered at run time (MODULE UNLOAD). The entry stays
    /// allocated (dispatch and client state may still name it) and is reused if the same
    /// command is registered again, so load/unload cycles do not grow memory.
    pub fn unregister(&mut self, name: &str) -> Option<&'static Command> {
        let command = self.by_name.remove(name.as_bytes())?;
        self.retired
            .insert(name.as_bytes().to_vec().into_boxed_slice(), command);
        Some(command)
    }

    /// Finds a top-level command by name, ASCII case-insensitively, without allocating.
    #[inline]
    pub fn get(&self, name: &[u8]) -> Option<&'static Command> {
        let mut buf = [0u8; 32];
        match buf.get_mut(..name.len()) {
            Some(lower) => {
                lower.copy_from_slice(name);
                lower.make_ascii_lowercase();
                self.by_name.get(&*lower).copied()
            }
            None => self.by_name.get(&*name.to_ascii_lowercase()).copied(),
        }
    }

    /// Every top-level command, in no particular order.
    pub fn iter(&self) -> impl Iterator<Item = &'static Command> + '_ {
        self.by_name.values().copied()
    }

    /// Number of top-level commands (`COMMAND COUNT`).
    pub fn len(&self) -> usize {
        self.by_name.len()
    }

    /// Whether no command is registered.
    pub fn is_empty(&self) -> bool {
        self.by_name.is_empty()
    }

    /// How many ids have been handed out, subcommands included (sizes per-command statistics).
    pub fn id_count(&self) -> usize {
        self.count
    }
}

fn validate_name(name: &str) -> Result<(), RegistrationError> {
    let valid = !name.is_empty()
        && name
            .bytes()
            .all(|b| b.is_ascii_graphic() && !b.is_ascii_uppercase() && b != b'|');
    if valid {
        Ok(())
    } else {
        Err(RegistrationError::InvalidName(name.to_string()))
    }
}

/// Whether a retired command can stand for `new`: the same facts and the same handler.
fn same_command(old: &CommandSpec, new: &CommandSpec) -> bool {
    let same_handler = match (old.handler, new.handler) {
        (Handler::Builtin(a), Handler::Builtin(b)) => std::ptr::fn_addr_eq(a, b),
        (Handler::Dynamic(a), Handler::Dynamic(b)) => std::ptr::addr_eq(a, b),
        _ => false,
    };
    same_handler
        && old.name == new.name
        && old.arity == new.arity
        && old.flags == new.flags
        && old.acl_extra == new.acl_extra
        && old.acl_replaces_group == new.acl_replaces_group
        && old.key_specs == new.key_specs
        && old.group == new.group
        && old.docs.summary == new.docs.summary
        && old.docs.since == new.docs.since
        && old.docs.complexity == new.docs.complexity
        && old.docs.arguments.is_empty()
        && new.docs.arguments.is_empty()
        && old.subcommands.is_empty()
        && new.subcommands.is_empty()
        && old.tips == new.tips
        && old.getkeys.is_none()
        && new.getkeys.is_none()
        && old.flags_fn.is_none()
        && new.flags_fn.is_none()
        && old.runs_in_multi == new.runs_in_multi
}

/// The ACL categories implied by a spec, as Redis derives them from the flags.
fn acl_categories(spec: &CommandSpec) -> u32 {
    let mut acl = spec.acl_extra;
    if let Some(category) = spec.group.acl_category()
        && !spec.acl_replaces_group
    {
        acl |= category.bit();
    }
    if spec.has(Flag::Write) {
        acl |= AclCategory::Write.bit();
    }
    if spec.has(Flag::ReadOnly) && acl & AclCategory::Scripting.bit() == 0 {
        acl |= AclCategory::Read.bit();
    }
    if spec.has(Flag::Admin) {
        acl |= AclCategory::Admin.bit() | AclCategory::Dangerous.bit();
    }
    if spec.has(Flag::PubSub) {
        acl |= AclCategory::PubSub.bit();
    }
    if spec.has(Flag::Fast) {
        acl |= AclCategory::Fast.bit();
    }
    if spec.has(Flag::Blocking) {
        acl |= AclCategory::Blocking.bit();
    }
    if acl & AclCategory::Fast.bit() == 0 {
        acl |= AclCategory::Slow.bit();
    }
    acl
}

/// The legacy (first, last, step) triple and whether keys are "movable", following Redis 7's
/// rules: one plain range spec is used as is; consecutive step-1 ranges merge; anything else
/// makes the keys movable.
fn legacy_key_range(spec: &CommandSpec) -> ((i64, i64, i64), bool) {
    let specs = spec.key_specs;
    if specs.is_empty() {
        return ((0, 0, 0), false);
    }
    let plain = |k: &super::spec::KeySpec| match (k.begin, k.find) {
        (BeginSearch::Index(pos), FindKeys::Range { last_key, step, .. }) => {
            Some((pos, last_key, step))
        }
        _ => None,
    };
    let incomplete = |k: &super::spec::KeySpec| k.flags & KeyFlag::Incomplete.bit() != 0;
    if let [only] = specs
        && let Some((pos, last, step)) = plain(only)
    {
        let last = if last < 0 { last } else { pos + last };
        return (
            (i64::from(pos), i64::from(last), i64::from(step)),
            incomplete(only),
        );
    }
    let mut movable = false;
    let (mut first, mut last, mut prev_last) = (i32::MAX, 0, 0);
    for k in specs {
        let Some((pos, last_key, step)) = plain(k) else {
            movable = true;
            continue;
        };
        if step != 1 || (prev_last != 0 && prev_last != pos - 1) {
            movable = true;
            continue;
        }
        movable |= incomplete(k);
        first = first.min(pos);
        last = if last_key < 0 {
            last_key
        } else {
            pos + last_key
        };
        prev_last = last;
    }
    if first == i32::MAX {
        ((0, 0, 0), movable)
    } else {
        ((i64::from(first), i64::from(last), 1), movable)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::command::spec::Arity;
    use crate::command::{Args, CommandResult};
    use crate::context::CommandContext;
    use oxidis_protocol::Frame;

    fn ok(_: &mut CommandContext<'_>, _: &mut Args<'_>) -> CommandResult {
        Ok(Frame::ok())
    }

    fn other(_: &mut CommandContext<'_>, _: &mut Args<'_>) -> CommandResult {
        Ok(Frame::Null)
    }

    #[test]
    fn unregister_removes_and_reregistering_reuses_the_entry() {
        let mut table = CommandTable::new();
        let spec = CommandSpec::new("x.cmd", Arity::Exact(2), ok);
        table.register(spec).expect("registers");
        let first = table.get(b"X.CMD").expect("found");
        let ids = table.id_count();
        assert!(table.unregister("x.cmd").is_some());
        assert!(table.get(b"x.cmd").is_none());
        assert!(table.unregister("x.cmd").is_none());
        table.register(spec).expect("registers again");
        let again = table.get(b"x.cmd").expect("found again");
        assert!(std::ptr::eq(first, again));
        assert_eq!(table.id_count(), ids);
    }

    #[test]
    fn a_changed_command_gets_a_new_entry() {
        let mut table = CommandTable::new();
        table
            .register(CommandSpec::new("x.cmd", Arity::Exact(2), ok))
            .expect("registers");
        table.unregister("x.cmd");
        table
            .register(CommandSpec::new("x.cmd", Arity::Exact(2), other))
            .expect("registers");
        assert_eq!(table.id_count(), 2);
        assert_eq!(table.len(), 1);
    }
}
