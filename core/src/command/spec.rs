//! The facts about one command, as typed data: name, arity, flags, key specs, ACL categories
//! and docs. Families declare these in `static` tables with the `const` builders below; modules
//! build the same structs at run time (leaking their strings) and register them the same way.

use super::args::Args;
use super::keys::KeyFinder;
use crate::context::CommandContext;
use crate::errors::CommandError;
use oxidis_protocol::Frame;

/// What a handler returns: the reply, or the error `dispatch` will answer with.
pub type CommandResult = Result<Frame, CommandError>;

/// A built-in handler: reads its arguments, returns a reply, never panics on client input.
pub type HandlerFn = fn(&mut CommandContext<'_>, &mut Args<'_>) -> CommandResult;

/// A handler supplied at run time (modules, scripting); lives as long as the server.
pub type DynamicHandler =
    dyn Fn(&mut CommandContext<'_>, &mut Args<'_>) -> CommandResult + Send + Sync;

/// A command whose flags depend on its arguments (EVAL and FCALL take them from the script's
/// declared flags): given the server, the argv and the declared [`Flag`] bits, the effective bits.
pub type FlagsFn = fn(&crate::server::Server, &[bytes::Bytes], u32) -> u32;

/// How a command is executed.
#[derive(Clone, Copy)]
pub enum Handler {
    /// A plain function: the built-in families.
    Builtin(HandlerFn),
    /// A closure registered at run time.
    Dynamic(&'static DynamicHandler),
    /// A container whose subcommands do the work (`CONFIG`, `CLIENT`, `OBJECT`).
    Container,
}

/// How many arguments a command takes, the command name included (Redis's signed arity).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Arity {
    /// Exactly this many.
    Exact(u16),
    /// At least this many.
    AtLeast(u16),
}

impl Arity {
    /// The signed form `COMMAND INFO` shows: N for exact, -N for "at least N".
    pub const fn as_redis(self) -> i64 {
        match self {
            Arity::Exact(n) => n as i64,
            Arity::AtLeast(n) => -(n as i64),
        }
    }

    /// Whether `argc` arguments (command name included) satisfy this arity.
    pub const fn accepts(self, argc: usize) -> bool {
        match self {
            Arity::Exact(n) => argc == n as usize,
            Arity::AtLeast(n) => argc >= n as usize,
        }
    }
}

macro_rules! flag_enum {
    ($(#[$meta:meta])* $name:ident : $repr:ty { $($(#[$vmeta:meta])* $variant:ident = $text:literal,)* }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq)]
        #[repr(u8)]
        pub enum $name { $($(#[$vmeta])* $variant,)* }

        impl $name {
            /// Every value, in bit order.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// The name Redis prints for it.
            pub const fn name(self) -> &'static str {
                match self { $($name::$variant => $text,)* }
            }

            /// This value's bit in a set.
            pub const fn bit(self) -> $repr {
                1 << (self as u8)
            }

            /// The set of `items`, as bits.
            pub const fn set_of(items: &[$name]) -> $repr {
                let mut bits = 0;
                let mut i = 0;
                while i < items.len() {
                    bits |= items[i].bit();
                    i += 1;
                }
                bits
            }

            /// The values whose bits are in `bits`, in order.
            pub fn in_set(bits: $repr) -> impl Iterator<Item = $name> {
                Self::ALL.iter().copied().filter(move |v| bits & v.bit() != 0)
            }
        }
    };
}

flag_enum! {
    /// Command flags, as `COMMAND INFO` lists them.
    Flag: u32 {
        /// May modify the keyspace.
        Write = "write",
        /// Never modifies the keyspace.
        ReadOnly = "readonly",
        /// May grow memory use: refused when over `maxmemory`.
        DenyOom = "denyoom",
        /// Registered by a module.
        Module = "module",
        /// Administrative.
        Admin = "admin",
        /// Pub/sub related.
        PubSub = "pubsub",
        /// Not allowed from scripts.
        NoScript = "noscript",
        /// May block the client.
        Blocking = "blocking",
        /// Allowed while loading the dataset.
        Loading = "loading",
        /// Allowed on a replica with stale data.
        Stale = "stale",
        /// Not shown to MONITOR.
        SkipMonitor = "skip_monitor",
        /// Not recorded in the slow log.
        SkipSlowlog = "skip_slowlog",
        /// Constant or O(log N) time.
        Fast = "fast",
        /// Allowed before authentication.
        NoAuth = "no_auth",
        /// May replicate even though it is not a write.
        MayReplicate = "may_replicate",
        /// Keys are optional.
        NoMandatoryKeys = "no_mandatory_keys",
        /// Not allowed inside MULTI.
        NoMulti = "no_multi",
        /// Allowed while a script or function is busy.
        AllowBusy = "allow_busy",
        /// Key positions cannot be found from the legacy first/last/step (computed).
        MovableKeys = "movablekeys",
        /// Refused during async loading.
        NoAsyncLoading = "no_async_loading",
        /// Needs `enable-*-command` (DEBUG, MODULE).
        Protected = "protected",
    }
}

flag_enum! {
    /// ACL categories (`@read`, `@string`, ...).
    AclCategory: u32 {
        /// `@keyspace`.
        Keyspace = "keyspace",
        /// `@read`.
        Read = "read",
        /// `@write`.
        Write = "write",
        /// `@set`.
        Set = "set",
        /// `@sortedset`.
        SortedSet = "sortedset",
        /// `@list`.
        List = "list",
        /// `@hash`.
        Hash = "hash",
        /// `@string`.
        String = "string",
        /// `@bitmap`.
        Bitmap = "bitmap",
        /// `@hyperloglog`.
        HyperLogLog = "hyperloglog",
        /// `@geo`.
        Geo = "geo",
        /// `@stream`.
        Stream = "stream",
        /// `@pubsub`.
        PubSub = "pubsub",
        /// `@admin`.
        Admin = "admin",
        /// `@fast`.
        Fast = "fast",
        /// `@slow`.
        Slow = "slow",
        /// `@blocking`.
        Blocking = "blocking",
        /// `@dangerous`.
        Dangerous = "dangerous",
        /// `@connection`.
        Connection = "connection",
        /// `@transaction`.
        Transaction = "transaction",
        /// `@scripting`.
        Scripting = "scripting",
    }
}

flag_enum! {
    /// Key-spec flags (`RW`, `access`, ...), as `COMMAND INFO` lists them.
    KeyFlag: u16 {
        /// Read-only access.
        Ro = "RO",
        /// Read and write.
        Rw = "RW",
        /// Overwrite without reading.
        Ow = "OW",
        /// Removes the key.
        Rm = "RM",
        /// Returns or exposes user data.
        Access = "access",
        /// Updates existing data.
        Update = "update",
        /// Adds data, never modifies.
        Insert = "insert",
        /// Deletes data.
        Delete = "delete",
        /// Not really a key (a channel, for example).
        NotKey = "not_key",
        /// The spec may miss keys.
        Incomplete = "incomplete",
        /// Flags depend on the arguments.
        VariableFlags = "variable_flags",
    }
}

/// Where the search for keys begins.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BeginSearch {
    /// At this argument index.
    Index(i32),
    /// After the first (or, with a negative start, last) occurrence of a keyword.
    Keyword {
        /// The keyword, upper case.
        keyword: &'static str,
        /// Where to start looking; negative counts from the end.
        start_from: i32,
    },
    /// Only the command knows.
    Unknown,
}

/// How keys are found from the starting point.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FindKeys {
    /// A range: `last_key` relative to the start (negative: from the end), every `step`.
    Range {
        /// Index of the last key relative to the start, or negative from the end.
        last_key: i32,
        /// Distance between keys.
        step: i32,
        /// With `last_key` -1, stop after 1/limit of the remaining arguments (0: no limit).
        limit: i32,
    },
    /// A count argument says how many keys follow.
    KeyNum {
        /// Index of the count, relative to the start.
        key_num_index: i32,
        /// Index of the first key, relative to the start.
        first_key: i32,
        /// Distance between keys.
        step: i32,
    },
    /// Only the command knows.
    Unknown,
}

/// One Redis 7 key specification.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KeySpec {
    /// [`KeyFlag`] bits.
    pub flags: u16,
    /// Where the search begins.
    pub begin: BeginSearch,
    /// How keys are found.
    pub find: FindKeys,
}

impl KeySpec {
    /// The common case: one key at `index`.
    pub const fn single(index: i32, flags: &[KeyFlag]) -> KeySpec {
        KeySpec::range(index, 0, 1, flags)
    }

    /// Keys from `index` to `last_key` (relative, or negative from the end), every `step`.
    pub const fn range(index: i32, last_key: i32, step: i32, flags: &[KeyFlag]) -> KeySpec {
        KeySpec {
            flags: KeyFlag::set_of(flags),
            begin: BeginSearch::Index(index),
            find: FindKeys::Range {
                last_key,
                step,
                limit: 0,
            },
        }
    }

    /// Any other shape.
    pub const fn new(begin: BeginSearch, find: FindKeys, flags: &[KeyFlag]) -> KeySpec {
        KeySpec {
            flags: KeyFlag::set_of(flags),
            begin,
            find,
        }
    }
}

/// The documentation group (`COMMAND DOCS` "group").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Group {
    /// Keyspace commands.
    Generic,
    /// Strings.
    String,
    /// Lists.
    List,
    /// Sets.
    Set,
    /// Sorted sets.
    SortedSet,
    /// Hashes.
    Hash,
    /// Pub/sub.
    PubSub,
    /// MULTI/EXEC.
    Transactions,
    /// Connection management.
    Connection,
    /// Server management.
    Server,
    /// Scripting and functions.
    Scripting,
    /// HyperLogLog.
    HyperLogLog,
    /// Cluster.
    Cluster,
    /// Geo.
    Geo,
    /// Streams.
    Stream,
    /// Bitmaps.
    Bitmap,
    /// A module's own group.
    Module,
}

impl Group {
    /// The name `COMMAND DOCS` prints.
    pub const fn name(self) -> &'static str {
        match self {
            Group::Generic => "generic",
            Group::String => "string",
            Group::List => "list",
            Group::Set => "set",
            Group::SortedSet => "sorted-set",
            Group::Hash => "hash",
            Group::PubSub => "pubsub",
            Group::Transactions => "transactions",
            Group::Connection => "connection",
            Group::Server => "server",
            Group::Scripting => "scripting",
            Group::HyperLogLog => "hyperloglog",
            Group::Cluster => "cluster",
            Group::Geo => "geo",
            Group::Stream => "stream",
            Group::Bitmap => "bitmap",
            Group::Module => "module",
        }
    }

    /// The ACL category every command of the group belongs to, if any.
    pub const fn acl_category(self) -> Option<AclCategory> {
        match self {
            Group::Generic => Some(AclCategory::Keyspace),
            Group::String => Some(AclCategory::String),
            Group::List => Some(AclCategory::List),
            Group::Set => Some(AclCategory::Set),
            Group::SortedSet => Some(AclCategory::SortedSet),
            Group::Hash => Some(AclCategory::Hash),
            Group::PubSub => Some(AclCategory::PubSub),
            Group::Transactions => Some(AclCategory::Transaction),
            Group::Connection => Some(AclCategory::Connection),
            Group::Scripting => Some(AclCategory::Scripting),
            Group::HyperLogLog => Some(AclCategory::HyperLogLog),
            Group::Geo => Some(AclCategory::Geo),
            Group::Stream => Some(AclCategory::Stream),
            Group::Bitmap => Some(AclCategory::Bitmap),
            Group::Server | Group::Cluster | Group::Module => None,
        }
    }
}

/// The type of a documented argument (`COMMAND DOCS` "type").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// `string`.
    String,
    /// `integer`.
    Integer,
    /// `double`.
    Double,
    /// `key`, with the index of its key spec.
    Key(u8),
    /// `pattern`.
    Pattern,
    /// `unix-time`.
    UnixTime,
    /// `pure-token`: the token alone.
    PureToken,
    /// `oneof`: one of the children.
    OneOf,
    /// `block`: the children in sequence.
    Block,
}

impl ArgKind {
    /// The name `COMMAND DOCS` prints.
    pub const fn name(self) -> &'static str {
        match self {
            ArgKind::String => "string",
            ArgKind::Integer => "integer",
            ArgKind::Double => "double",
            ArgKind::Key(_) => "key",
            ArgKind::Pattern => "pattern",
            ArgKind::UnixTime => "unix-time",
            ArgKind::PureToken => "pure-token",
            ArgKind::OneOf => "oneof",
            ArgKind::Block => "block",
        }
    }
}

/// One documented argument.
#[derive(Debug, Clone, Copy)]
pub struct Arg {
    /// The argument's name.
    pub name: &'static str,
    /// Its type.
    pub kind: ArgKind,
    /// The keyword that precedes it, if any.
    pub token: Option<&'static str>,
    /// Whether it may be left out.
    pub optional: bool,
    /// Whether it may repeat.
    pub multiple: bool,
    /// Whether the token repeats with each value.
    pub multiple_token: bool,
    /// The version that added it.
    pub since: Option<&'static str>,
    /// For `OneOf` and `Block`: the parts.
    pub children: &'static [Arg],
}

impl Arg {
    const fn of(name: &'static str, kind: ArgKind) -> Arg {
        Arg {
            name,
            kind,
            token: None,
            optional: false,
            multiple: false,
            multiple_token: false,
            since: None,
            children: &[],
        }
    }

    /// A key argument, found by key spec `spec`.
    pub const fn key(name: &'static str, spec: u8) -> Arg {
        Arg::of(name, ArgKind::Key(spec))
    }

    /// A string argument.
    pub const fn string(name: &'static str) -> Arg {
        Arg::of(name, ArgKind::String)
    }

    /// An integer argument.
    pub const fn integer(name: &'static str) -> Arg {
        Arg::of(name, ArgKind::Integer)
    }

    /// A double argument.
    pub const fn double(name: &'static str) -> Arg {
        Arg::of(name, ArgKind::Double)
    }

    /// A glob pattern argument.
    pub const fn pattern(name: &'static str) -> Arg {
        Arg::of(name, ArgKind::Pattern)
    }

    /// A Unix time argument.
    pub const fn unix_time(name: &'static str) -> Arg {
        Arg::of(name, ArgKind::UnixTime)
    }

    /// A keyword on its own (`NX`); its name is the keyword in lower case.
    pub const fn token(name: &'static str, token: &'static str) -> Arg {
        let mut a = Arg::of(name, ArgKind::PureToken);
        a.token = Some(token);
        a
    }

    /// One of several alternatives.
    pub const fn one_of(name: &'static str, children: &'static [Arg]) -> Arg {
        let mut a = Arg::of(name, ArgKind::OneOf);
        a.children = children;
        a
    }

    /// A group of arguments in sequence.
    pub const fn block(name: &'static str, children: &'static [Arg]) -> Arg {
        let mut a = Arg::of(name, ArgKind::Block);
        a.children = children;
        a
    }

    /// Preceded by a keyword (`EX seconds`).
    pub const fn with_token(mut self, token: &'static str) -> Arg {
        self.token = Some(token);
        self
    }

    /// May be left out.
    pub const fn optional(mut self) -> Arg {
        self.optional = true;
        self
    }

    /// May repeat.
    pub const fn multiple(mut self) -> Arg {
        self.multiple = true;
        self
    }

    /// May repeat, keyword and all.
    pub const fn multiple_token(mut self) -> Arg {
        self.multiple = true;
        self.multiple_token = true;
        self
    }

    /// Added in this version.
    pub const fn since(mut self, version: &'static str) -> Arg {
        self.since = Some(version);
        self
    }
}

/// Documentation shown by `COMMAND DOCS`.
#[derive(Debug, Clone, Copy)]
pub struct Docs {
    /// One line on what the command does.
    pub summary: &'static str,
    /// The Redis version that introduced it.
    pub since: &'static str,
    /// Its time complexity.
    pub complexity: &'static str,
    /// Version that deprecated it, if it is.
    pub deprecated_since: Option<&'static str>,
    /// What replaces it, if deprecated.
    pub replaced_by: Option<&'static str>,
    /// Its arguments.
    pub arguments: &'static [Arg],
}

/// Everything about one command; `COMMAND`, dispatch and ACLs all read it.
#[derive(Clone, Copy)]
pub struct CommandSpec {
    /// Lower-case name (for a subcommand, without the container's name).
    pub name: &'static str,
    /// Argument count, the name included (for a subcommand, counted from the container).
    pub arity: Arity,
    /// What runs it.
    pub handler: Handler,
    /// [`Flag`] bits.
    pub flags: u32,
    /// Extra ACL categories beyond what the group and flags imply ([`AclCategory`] bits).
    pub acl_extra: u32,
    /// Whether `acl_extra` replaces the group's category instead of adding to it.
    pub acl_replaces_group: bool,
    /// Key specifications, in the order `COMMAND INFO` lists them.
    pub key_specs: &'static [KeySpec],
    /// The command's own key finder, for keys the specs cannot fully describe (Redis's
    /// `getkeys_proc`); see [`super::find_keys`].
    pub getkeys: Option<KeyFinder>,
    /// The documentation group.
    pub group: Group,
    /// Documentation.
    pub docs: Docs,
    /// Request/response policy tips (`nondeterministic_output`, ...).
    pub tips: &'static [&'static str],
    /// For containers: their subcommands.
    pub subcommands: &'static [CommandSpec],
    /// Runs at once inside MULTI instead of being queued (EXEC, DISCARD, MULTI, WATCH, QUIT,
    /// RESET).
    pub runs_in_multi: bool,
    /// Flags that depend on the arguments, when the command has such (see [`FlagsFn`]).
    pub flags_fn: Option<FlagsFn>,
}

impl CommandSpec {
    /// A command with no flags, keys or docs yet; chain the builders below.
    pub const fn new(name: &'static str, arity: Arity, handler: HandlerFn) -> CommandSpec {
        CommandSpec::with_handler(name, arity, Handler::Builtin(handler))
    }

    /// A command run by any kind of [`Handler`] (modules and scripting use this).
    pub const fn with_handler(name: &'static str, arity: Arity, handler: Handler) -> CommandSpec {
        CommandSpec {
            name,
            arity,
            handler,
            flags: 0,
            acl_extra: 0,
            acl_replaces_group: false,
            key_specs: &[],
            getkeys: None,
            group: Group::Generic,
            docs: Docs {
                summary: "",
                since: "1.0.0",
                complexity: "O(1)",
                deprecated_since: None,
                replaced_by: None,
                arguments: &[],
            },
            tips: &[],
            subcommands: &[],
            runs_in_multi: false,
            flags_fn: None,
        }
    }

    /// A container (`CONFIG`) whose subcommands do the work.
    pub const fn container(name: &'static str, subcommands: &'static [CommandSpec]) -> CommandSpec {
        let mut spec = CommandSpec::with_handler(name, Arity::AtLeast(2), Handler::Container);
        spec.subcommands = subcommands;
        spec
    }

    /// Adds subcommands to a command that also answers on its own (COMMAND).
    pub const fn with_subcommands(mut self, subcommands: &'static [CommandSpec]) -> CommandSpec {
        self.subcommands = subcommands;
        self
    }

    /// Makes the command run at once inside MULTI instead of being queued.
    pub const fn runs_in_multi(mut self) -> CommandSpec {
        self.runs_in_multi = true;
        self
    }

    /// Makes the flags depend on the arguments (see [`FlagsFn`]).
    pub const fn flags_fn(mut self, f: FlagsFn) -> CommandSpec {
        self.flags_fn = Some(f);
        self
    }

    /// Sets the flags.
    pub const fn flags(mut self, flags: &[Flag]) -> CommandSpec {
        self.flags = Flag::set_of(flags);
        self
    }

    /// Adds ACL categories beyond the derived ones (`@dangerous` on FLUSHALL, say).
    pub const fn acl(mut self, categories: &[AclCategory]) -> CommandSpec {
        self.acl_extra = AclCategory::set_of(categories);
        self
    }

    /// Sets the ACL categories outright: the group's category is not added (SORT, say).
    pub const fn acl_only(mut self, categories: &[AclCategory]) -> CommandSpec {
        self.acl_extra = AclCategory::set_of(categories);
        self.acl_replaces_group = true;
        self
    }

    /// Sets the key specs.
    pub const fn keys(mut self, specs: &'static [KeySpec]) -> CommandSpec {
        self.key_specs = specs;
        self
    }

    /// Sets the command's own key finder, used when the key specs cannot tell (SET's GET,
    /// SORT's STORE, EVAL's numkeys...).
    pub const fn key_finder(mut self, finder: KeyFinder) -> CommandSpec {
        self.getkeys = Some(finder);
        self
    }

    /// Sets the group.
    pub const fn group(mut self, group: Group) -> CommandSpec {
        self.group = group;
        self
    }

    /// Sets summary, the version that introduced the command, and its complexity.
    pub const fn doc(
        mut self,
        summary: &'static str,
        since: &'static str,
        complexity: &'static str,
    ) -> CommandSpec {
        self.docs.summary = summary;
        self.docs.since = since;
        self.docs.complexity = complexity;
        self
    }

    /// Sets the documented arguments.
    pub const fn args(mut self, arguments: &'static [Arg]) -> CommandSpec {
        self.docs.arguments = arguments;
        self
    }

    /// Marks the command deprecated in favour of another.
    pub const fn deprecated(
        mut self,
        since: &'static str,
        replaced_by: &'static str,
    ) -> CommandSpec {
        self.docs.deprecated_since = Some(since);
        self.docs.replaced_by = Some(replaced_by);
        self
    }

    /// Sets the tips.
    pub const fn tips(mut self, tips: &'static [&'static str]) -> CommandSpec {
        self.tips = tips;
        self
    }

    /// Whether the command has `flag`.
    pub const fn has(&self, flag: Flag) -> bool {
        self.flags & flag.bit() != 0
    }
}

/// A group of commands registered together: one per family file.
#[derive(Clone, Copy)]
pub struct Family {
    /// The group every command in it belongs to.
    pub group: Group,
    /// The commands.
    pub commands: &'static [CommandSpec],
}
