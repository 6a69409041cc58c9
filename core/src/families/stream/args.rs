//! The documented arguments of the stream commands (COMMAND DOCS), as Redis 7.0 lists them.

use crate::command::Arg;

pub(super) const XADD_TRIM: &[Arg] = &[
    Arg::one_of("strategy", XADD_STRATEGY),
    Arg::one_of("operator", XADD_OPERATOR).optional(),
    Arg::string("threshold"),
    Arg::integer("count")
        .with_token("LIMIT")
        .optional()
        .since("6.2.0"),
];
pub(super) const XADD_STRATEGY: &[Arg] = &[
    Arg::token("maxlen", "MAXLEN"),
    Arg::token("minid", "MINID").since("6.2.0"),
];
pub(super) const XADD_OPERATOR: &[Arg] =
    &[Arg::token("equal", "="), Arg::token("approximately", "~")];
pub(super) const XADD_ID_OR_AUTO: &[Arg] = &[Arg::token("auto_id", "*"), Arg::string("id")];
pub(super) const XADD_FIELD_VALUE: &[Arg] = &[Arg::string("field"), Arg::string("value")];
pub(super) const XADD_ARGS: &[Arg] = &[
    Arg::key("key", 0),
    Arg::token("nomkstream", "NOMKSTREAM")
        .optional()
        .since("6.2.0"),
    Arg::block("trim", XADD_TRIM).optional(),
    Arg::one_of("id_or_auto", XADD_ID_OR_AUTO),
    Arg::block("field_value", XADD_FIELD_VALUE).multiple(),
];
pub(super) const XLEN_ARGS: &[Arg] = &[Arg::key("key", 0)];
pub(super) const XRANGE_ARGS: &[Arg] = &[
    Arg::key("key", 0),
    Arg::string("start"),
    Arg::string("end"),
    Arg::integer("count").with_token("COUNT").optional(),
];
pub(super) const XREVRANGE_ARGS: &[Arg] = &[
    Arg::key("key", 0),
    Arg::string("end"),
    Arg::string("start"),
    Arg::integer("count").with_token("COUNT").optional(),
];
pub(super) const XDEL_ARGS: &[Arg] = &[Arg::key("key", 0), Arg::string("id").multiple()];
pub(super) const XTRIM_TRIM: &[Arg] = &[
    Arg::one_of("strategy", XTRIM_STRATEGY),
    Arg::one_of("operator", XTRIM_OPERATOR).optional(),
    Arg::string("threshold"),
    Arg::integer("count")
        .with_token("LIMIT")
        .optional()
        .since("6.2.0"),
];
pub(super) const XTRIM_STRATEGY: &[Arg] = &[
    Arg::token("maxlen", "MAXLEN"),
    Arg::token("minid", "MINID").since("6.2.0"),
];
pub(super) const XTRIM_OPERATOR: &[Arg] =
    &[Arg::token("equal", "="), Arg::token("approximately", "~")];
pub(super) const XTRIM_ARGS: &[Arg] = &[Arg::key("key", 0), Arg::block("trim", XTRIM_TRIM)];
pub(super) const XREAD_STREAMS: &[Arg] =
    &[Arg::key("key", 0).multiple(), Arg::string("id").multiple()];
pub(super) const XREAD_ARGS: &[Arg] = &[
    Arg::integer("count").with_token("COUNT").optional(),
    Arg::integer("milliseconds").with_token("BLOCK").optional(),
    Arg::block("streams", XREAD_STREAMS).with_token("STREAMS"),
];
pub(super) const XREADGROUP_GROUP_CONSUMER: &[Arg] =
    &[Arg::string("group"), Arg::string("consumer")];
pub(super) const XREADGROUP_STREAMS: &[Arg] =
    &[Arg::key("key", 0).multiple(), Arg::string("id").multiple()];
pub(super) const XREADGROUP_ARGS: &[Arg] = &[
    Arg::block("group_consumer", XREADGROUP_GROUP_CONSUMER).with_token("GROUP"),
    Arg::integer("count").with_token("COUNT").optional(),
    Arg::integer("milliseconds").with_token("BLOCK").optional(),
    Arg::token("noack", "NOACK").optional(),
    Arg::block("streams", XREADGROUP_STREAMS).with_token("STREAMS"),
];
pub(super) const XGROUP_CREATE_ID: &[Arg] = &[Arg::string("id"), Arg::token("new_id", "$")];
pub(super) const XGROUP_CREATE_ARGS: &[Arg] = &[
    Arg::key("key", 0),
    Arg::string("groupname"),
    Arg::one_of("id", XGROUP_CREATE_ID),
    Arg::token("mkstream", "MKSTREAM").optional(),
    Arg::integer("entries_read")
        .with_token("ENTRIESREAD")
        .optional(),
];
pub(super) const XGROUP_CREATECONSUMER_ARGS: &[Arg] = &[
    Arg::key("key", 0),
    Arg::string("groupname"),
    Arg::string("consumername"),
];
pub(super) const XGROUP_DELCONSUMER_ARGS: &[Arg] = &[
    Arg::key("key", 0),
    Arg::string("groupname"),
    Arg::string("consumername"),
];
pub(super) const XGROUP_DESTROY_ARGS: &[Arg] = &[Arg::key("key", 0), Arg::string("groupname")];
pub(super) const XGROUP_SETID_ID: &[Arg] = &[Arg::string("id"), Arg::token("new_id", "$")];
pub(super) const XGROUP_SETID_ARGS: &[Arg] = &[
    Arg::key("key", 0),
    Arg::string("groupname"),
    Arg::one_of("id", XGROUP_SETID_ID),
    Arg::integer("entries_read")
        .with_token("ENTRIESREAD")
        .optional(),
];
pub(super) const XACK_ARGS: &[Arg] = &[
    Arg::key("key", 0),
    Arg::string("group"),
    Arg::string("id").multiple(),
];
pub(super) const XPENDING_FILTERS: &[Arg] = &[
    Arg::integer("min-idle-time")
        .with_token("IDLE")
        .optional()
        .since("6.2.0"),
    Arg::string("start"),
    Arg::string("end"),
    Arg::integer("count"),
    Arg::string("consumer").optional(),
];
pub(super) const XPENDING_ARGS: &[Arg] = &[
    Arg::key("key", 0),
    Arg::string("group"),
    Arg::block("filters", XPENDING_FILTERS).optional(),
];
pub(super) const XCLAIM_ARGS: &[Arg] = &[
    Arg::key("key", 0),
    Arg::string("group"),
    Arg::string("consumer"),
    Arg::string("min-idle-time"),
    Arg::string("id").multiple(),
    Arg::integer("ms").with_token("IDLE").optional(),
    Arg::unix_time("unix-time-milliseconds")
        .with_token("TIME")
        .optional(),
    Arg::integer("count").with_token("RETRYCOUNT").optional(),
    Arg::token("force", "FORCE").optional(),
    Arg::token("justid", "JUSTID").optional(),
    Arg::string("id").with_token("LASTID").optional(),
];
pub(super) const XAUTOCLAIM_ARGS: &[Arg] = &[
    Arg::key("key", 0),
    Arg::string("group"),
    Arg::string("consumer"),
    Arg::string("min-idle-time"),
    Arg::string("start"),
    Arg::integer("count").with_token("COUNT").optional(),
    Arg::token("justid", "JUSTID").optional(),
];
pub(super) const XINFO_STREAM_FULL: &[Arg] =
    &[Arg::integer("count").with_token("COUNT").optional()];
pub(super) const XINFO_STREAM_ARGS: &[Arg] = &[
    Arg::key("key", 0),
    Arg::block("full", XINFO_STREAM_FULL)
        .with_token("FULL")
        .optional(),
];
pub(super) const XINFO_GROUPS_ARGS: &[Arg] = &[Arg::key("key", 0)];
pub(super) const XINFO_CONSUMERS_ARGS: &[Arg] = &[Arg::key("key", 0), Arg::string("groupname")];
pub(super) const XSETID_ARGS: &[Arg] = &[
    Arg::key("key", 0),
    Arg::string("last-id"),
    Arg::integer("entries_added")
        .with_token("ENTRIESADDED")
        .optional()
        .since("7.0.0"),
    Arg::string("max_deleted_entry_id")
        .with_token("MAXDELETEDID")
        .optional()
        .since("7.0.0"),
];
