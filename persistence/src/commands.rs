//! DUMP, RESTORE and SAVE.
//!
//! A DUMP payload is a value's RDB serialization (type byte and body, no key), the RDB version
//! as a little-endian u16 and the CRC-64 of both as a little-endian u64: the same bytes Redis
//! 7.0 produces, so payloads move between Oxidis and Redis either way.

use bytes::Bytes;
use oxidis_core::command::{
    AclCategory, Arg, Args, Arity, CommandResult, CommandSpec, Family, Flag::*, Group, KeyFlag,
    KeySpec, parse_i64,
};
use oxidis_core::context::CommandContext;
use oxidis_core::db::Ttl;
use oxidis_core::errors::CommandError;
use oxidis_core::events::class;
use oxidis_protocol::Frame;

use tracing::warn;

use crate::rdb::LoadError;
use crate::rdb::read::{LoadOptions, PayloadError, lfu_clock, restore_payload};
use crate::rdb::write::{SaveOptions, dump_payload};

/// RESTORE onto an existing key without REPLACE.
pub const BUSYKEY: &str = "BUSYKEY Target key name already exists.";
/// RESTORE with a negative TTL.
pub const INVALID_TTL: &str = "ERR Invalid TTL value, must be >= 0";
/// RESTORE ... IDLETIME with a negative value.
pub const INVALID_IDLETIME: &str = "ERR Invalid IDLETIME value, must be >= 0";
/// RESTORE ... FREQ outside 0..=255.
pub const INVALID_FREQ: &str = "ERR Invalid FREQ value, must be >= 0 and <= 255";
/// A payload whose footer (version, CRC) does not check out.
pub const BAD_PAYLOAD_FOOTER: &str = "ERR DUMP payload version or checksum are wrong";
/// A payload whose body cannot be decoded.
pub const BAD_DATA_FORMAT: &str = "ERR Bad data format";
/// SAVE failed (Redis's bare error; the log says why).
pub const SAVE_FAILED: &str = "ERR";
/// SAVE or BGSAVE while a BGSAVE runs.
pub const BGSAVE_IN_PROGRESS: &str = "ERR Background save already in progress";
/// BGSAVE (without SCHEDULE) while an AOF rewrite runs.
pub const ANOTHER_CHILD: &str = "ERR Another child process is active (AOF?): can't BGSAVE right now. Use BGSAVE SCHEDULE in order to schedule a BGSAVE whenever possible.";

/// DUMP and RESTORE (Redis's `generic` group).
pub static FAMILY_GENERIC: Family = Family {
    group: Group::Generic,
    commands: &[
        CommandSpec::new("dump", Arity::Exact(2), dump)
            .flags(&[ReadOnly])
            .acl(&[AclCategory::Keyspace])
            .keys(&[KeySpec::single(1, &[KeyFlag::Ro, KeyFlag::Access])])
            .tips(&["nondeterministic_output"])
            .doc(
                "Returns a serialized representation of the value stored at a key.",
                "2.6.0",
                "O(1) to access the key and additional O(N*M) to serialize it, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1).",
            )
            .args(&[Arg::key("key", 0)]),
        CommandSpec::new("restore", Arity::AtLeast(4), restore)
            .flags(&[Write, DenyOom])
            .acl(&[AclCategory::Keyspace, AclCategory::Dangerous])
            .keys(&[KeySpec::single(1, &[KeyFlag::Ow, KeyFlag::Update])])
            .doc(
                "Creates a key from the serialized representation of a value.",
                "2.6.0",
                "O(1) to create the new key and additional O(N*M) to reconstruct the serialized value, where N is the number of Redis objects composing the value and M their average size. For small string values the time complexity is thus O(1)+O(1*M) where M is small, so simply O(1). However for sorted set values the complexity is O(N*M*log(N)) because inserting values into sorted sets is O(log(N)).",
            )
            .args(&[
                Arg::key("key", 0),
                Arg::integer("ttl"),
                Arg::string("serialized-value"),
                Arg::token("replace", "REPLACE").optional().since("3.0.0"),
                Arg::token("absttl", "ABSTTL").optional().since("5.0.0"),
                Arg::integer("seconds")
                    .with_token("IDLETIME")
                    .optional()
                    .since("5.0.0"),
                Arg::integer("frequency")
                    .with_token("FREQ")
                    .optional()
                    .since("5.0.0"),
            ]),
    ],
};

/// SAVE and BGSAVE (Redis's `server` group).
pub static FAMILY_SERVER: Family = Family {
    group: Group::Server,
    commands: &[
        CommandSpec::new("save", Arity::Exact(1), save)
            .flags(&[NoAsyncLoading, Admin, NoScript, NoMulti])
            .doc(
                "Synchronously saves the database(s) to disk.",
                "1.0.0",
                "O(N) where N is the total number of keys in all databases",
            ),
        CommandSpec::new("bgsave", Arity::AtLeast(1), bgsave)
            .flags(&[NoAsyncLoading, Admin, NoScript])
            .doc("Asynchronously save the dataset to disk", "1.0.0", "O(1)")
            .args(&[Arg::token("schedule", "SCHEDULE").optional().since("3.2.2")]),
    ],
};

fn dump(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let key = args.next_bytes()?;
    let Some(pos) = ctx.lookup_read(key) else {
        return Ok(Frame::Null);
    };
    let options = SaveOptions::from_server(ctx.server);
    let payload = dump_payload(&ctx.db().entry(pos).value, options);
    Ok(Frame::Bulk(Bytes::from(payload)))
}

fn restore(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let argv = args.argv();
    let key = argv[1].clone();
    let (mut replace, mut absttl) = (false, false);
    let (mut idle, mut freq): (Option<i64>, Option<i64>) = (None, None);
    let mut j = 4;
    while j < argv.len() {
        let option = argv[j].to_ascii_lowercase();
        let has_value = j + 1 < argv.len();
        match option.as_slice() {
            b"replace" => replace = true,
            b"absttl" => absttl = true,
            b"idletime" if has_value && freq.is_none() => {
                let n = parse_i64(&argv[j + 1])?;
                if n < 0 {
                    return Err(CommandError::msg(INVALID_IDLETIME));
                }
                idle = Some(n);
                j += 1;
            }
            b"freq" if has_value && idle.is_none() => {
                let n = parse_i64(&argv[j + 1])?;
                if !(0..=255).contains(&n) {
                    return Err(CommandError::msg(INVALID_FREQ));
                }
                freq = Some(n);
                j += 1;
            }
            _ => return Err(CommandError::Syntax),
        }
        j += 1;
    }
    if !replace && ctx.lookup_write(&key).is_some() {
        return Err(CommandError::msg(BUSYKEY));
    }
    let ttl = parse_i64(&argv[2])?;
    if ttl < 0 {
        return Err(CommandError::msg(INVALID_TTL));
    }
    let options = LoadOptions::from_config(ctx.config(), ctx.server.list_packed_threshold)
        .with_module_types(&ctx.server.modules.types);
    let skip_checksum = ctx.server.persistence_state.skip_checksum_validation;
    let value = match restore_payload(&argv[3], &options, skip_checksum) {
        Ok(value) => value,
        Err(PayloadError::Footer) => return Err(CommandError::msg(BAD_PAYLOAD_FOOTER)),
        Err(PayloadError::Body(error)) => {
            // Redis logs why a payload was refused (rdbReportCorruptRDB); the client only
            // learns that it was.
            if error != LoadError::EmptyKey {
                warn!("{error}");
            }
            return Err(CommandError::msg(BAD_DATA_FORMAT));
        }
    };
    let deleted = replace && ctx.delete(&key);
    let now = ctx.now_ms();
    let expire_at = match (ttl, absttl) {
        (0, _) => None,
        (ttl, true) => Some(ttl.unsigned_abs()),
        (ttl, false) => Some(now.saturating_add(ttl.unsigned_abs())),
    };
    if expire_at.is_some_and(|at| at <= now) {
        // Already expired: the key is not created; a replaced key is just deleted.
        if deleted {
            ctx.notify(class::GENERIC, "del", &key);
            ctx.changed(1);
            ctx.rewrite_propagation(vec![Bytes::from_static(b"DEL"), key.clone()]);
        }
        return Ok(Frame::ok());
    }
    // A relative TTL propagates as an absolute one (ABSTTL), as Redis does.
    if let Some(at) = expire_at
        && !absttl
    {
        let mut propagate = argv.to_vec();
        propagate[2] = Bytes::from(at.to_string());
        propagate.push(Bytes::from_static(b"ABSTTL"));
        ctx.rewrite_propagation(propagate);
    }
    let ttl = expire_at.map_or(Ttl::Clear, Ttl::At);
    let pos = ctx.set(&key, value, ttl);
    // objectSetLRUOrLFU: FREQ counts under an LFU policy, IDLETIME under any other.
    let lfu = ctx.config().maxmemory_policy.is_lfu();
    let clock = match (idle, freq) {
        (_, Some(counter)) if lfu => Some(lfu_clock(now, u8::try_from(counter).unwrap_or(u8::MAX))),
        (Some(idle), _) if !lfu => {
            let idle = u32::try_from(idle).unwrap_or(u32::MAX);
            Some(ctx.server.lru_clock().wrapping_sub(idle))
        }
        _ => None,
    };
    if let Some(clock) = clock {
        ctx.db().entry_mut(pos).access_clock = clock;
    }
    ctx.notify(class::GENERIC, "restore", &key);
    ctx.changed(1);
    Ok(Frame::ok())
}

fn save(ctx: &mut CommandContext<'_>, _args: &mut Args<'_>) -> CommandResult {
    if crate::background::bgsave_in_progress(ctx.server) {
        return Err(CommandError::msg(BGSAVE_IN_PROGRESS));
    }
    match crate::save_to_disk(ctx.server) {
        Ok(()) => Ok(Frame::ok()),
        Err(_) => Err(CommandError::msg(SAVE_FAILED)),
    }
}

fn bgsave(ctx: &mut CommandContext<'_>, args: &mut Args<'_>) -> CommandResult {
    let schedule = match args.remaining() {
        0 => false,
        1 if args.eat_keyword("SCHEDULE") => true,
        _ => return Err(CommandError::Syntax),
    };
    if crate::background::bgsave_in_progress(ctx.server) {
        return Err(CommandError::msg(BGSAVE_IN_PROGRESS));
    }
    if ctx
        .server
        .persistence_state
        .aof_rewrite_started_ms
        .is_some()
    {
        if !schedule {
            return Err(CommandError::msg(ANOTHER_CHILD));
        }
        ctx.server
            .extensions
            .get_or_insert_with(crate::background::Background::default)
            .bgsave_scheduled = true;
        return Ok(Frame::Simple("Background saving scheduled".into()));
    }
    match crate::background::start_bgsave(ctx.server) {
        Ok(()) => Ok(Frame::Simple("Background saving started".into())),
        Err(_) => Err(CommandError::msg(SAVE_FAILED)),
    }
}
