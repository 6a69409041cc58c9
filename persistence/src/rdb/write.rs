//! Encoding values and whole datasets in RDB version 10, choosing the type byte Redis 7.0 would
//! write for each encoding, so that a reload gives the same `OBJECT ENCODING`.

use oxidis_core::Server;
use oxidis_core::config::{Config, MaxmemoryPolicy};
use oxidis_core::db::Entry;
use oxidis_core::modules::ModuleRdbWriter;
use oxidis_core::modules::types::{aux as module_aux, opcode as module_opcode};
use oxidis_core::types::{List, Value, parse_canonical_i64};

use super::{CONTAINER_PACKED, CONTAINER_PLAIN, RDB_VERSION, kind, opcode};
use crate::{crc64, listpack, lzf};

/// Node byte limits for `list-max-listpack-size` -1..-5.
const NODE_SIZE_LEVELS: [usize; 5] = [4096, 8192, 16384, 32768, 65536];
/// The byte cap of a node when the fill counts entries.
const NODE_SIZE_SAFETY_LIMIT: usize = 8192;

/// What shapes the output: compression and the list node sizes.
#[derive(Debug, Clone, Copy)]
pub struct SaveOptions {
    /// `rdbcompression`: LZF for strings over 20 bytes.
    pub compress: bool,
    /// `list-max-listpack-size`.
    pub list_fill: i64,
    /// Elements at least this big are written as plain quicklist nodes.
    pub packed_threshold: usize,
}

impl SaveOptions {
    /// The options a server's configuration calls for.
    pub fn from_server(server: &Server) -> SaveOptions {
        SaveOptions {
            compress: server.config.rdbcompression,
            list_fill: server.config.list_max_listpack_size,
            packed_threshold: server.list_packed_threshold,
        }
    }
}

/// An RDB byte stream being built.
#[derive(Debug)]
pub struct Writer {
    /// The bytes so far.
    pub buf: Vec<u8>,
    options: SaveOptions,
}

impl Writer {
    /// An empty stream.
    pub fn new(options: SaveOptions) -> Writer {
        Writer {
            buf: Vec::new(),
            options,
        }
    }

    /// A stream that continues `buf`.
    pub fn with_buf(buf: Vec<u8>, options: SaveOptions) -> Writer {
        Writer { buf, options }
    }

    /// The options the stream was made with.
    pub fn options(&self) -> SaveOptions {
        self.options
    }

    /// One byte.
    pub fn byte(&mut self, b: u8) {
        self.buf.push(b);
    }

    /// A length in the shortest of the four length encodings.
    pub fn length(&mut self, n: u64) {
        if n < 1 << 6 {
            self.buf.push(n as u8);
        } else if n < 1 << 14 {
            self.buf.push(0x40 | (n >> 8) as u8);
            self.buf.push((n & 0xFF) as u8);
        } else if let Ok(n) = u32::try_from(n) {
            self.buf.push(0x80);
            self.buf.extend_from_slice(&n.to_be_bytes());
        } else {
            self.buf.push(0x81);
            self.buf.extend_from_slice(&n.to_be_bytes());
        }
    }

    fn len_usize(&mut self, n: usize) {
        self.length(u64::try_from(n).unwrap_or(u64::MAX));
    }

    /// A string as `rdbSaveRawString` writes it: an integer encoding when it is a short
    /// canonical integer, LZF when enabled and worthwhile, else length and bytes.
    pub fn string(&mut self, s: &[u8]) {
        if s.len() <= 11
            && let Some(n) = parse_canonical_i64(s)
            && self.int_encoded(n)
        {
            return;
        }
        if self.options.compress && s.len() > 20 && self.lzf(s) {
            return;
        }
        self.len_usize(s.len());
        self.buf.extend_from_slice(s);
    }

    /// A string that holds an integer (`rdbSaveLongLongAsStringObject`).
    pub fn int_string(&mut self, n: i64) {
        if !self.int_encoded(n) {
            let mut buffer = itoa::Buffer::new();
            let text = buffer.format(n).as_bytes();
            self.len_usize(text.len());
            self.buf.extend_from_slice(text);
        }
    }

    fn int_encoded(&mut self, n: i64) -> bool {
        if let Ok(v) = i8::try_from(n) {
            self.buf.push(0xC0);
            self.buf.extend_from_slice(&v.to_le_bytes());
        } else if let Ok(v) = i16::try_from(n) {
            self.buf.push(0xC1);
            self.buf.extend_from_slice(&v.to_le_bytes());
        } else if let Ok(v) = i32::try_from(n) {
            self.buf.push(0xC2);
            self.buf.extend_from_slice(&v.to_le_bytes());
        } else {
            return false;
        }
        true
    }

    /// LZF-compressed, if that saves at least four bytes (as Redis requires).
    fn lzf(&mut self, s: &[u8]) -> bool {
        let Some(packed) = lzf::compress(s, s.len() - 4) else {
            return false;
        };
        self.buf.push(0xC3);
        self.len_usize(packed.len());
        self.len_usize(s.len());
        self.buf.extend_from_slice(&packed);
        true
    }

    /// The type byte Redis writes for `value`'s encoding.
    pub fn value_type(value: &Value) -> u8 {
        match value {
            Value::Int(_) | Value::Str(_) | Value::Mutable(_) => kind::STRING,
            Value::List(_) => kind::LIST_QUICKLIST_2,
            Value::Hash(h) if h.encoding_name() == "listpack" => kind::HASH_LISTPACK,
            Value::Hash(_) => kind::HASH,
            Value::Set(s) if s.encoding_name() == "intset" => kind::SET_INTSET,
            Value::Set(_) => kind::SET,
            Value::SortedSet(z) if z.encoding_name() == "listpack" => kind::ZSET_LISTPACK,
            Value::SortedSet(_) => kind::ZSET_2,
            Value::Stream(_) => kind::STREAM_LISTPACKS_2,
            Value::Module(_) => kind::MODULE_2,
        }
    }

    /// A value's body (after its type byte).
    pub fn value(&mut self, value: &Value) {
        match value {
            Value::Int(n) => self.int_string(*n),
            Value::Str(s) => self.string(s.as_slice()),
            Value::Mutable(v) => self.string(v),
            Value::List(list) => self.list(list),
            Value::Hash(hash) => {
                if hash.encoding_name() == "listpack" {
                    let mut lp = listpack::Builder::new();
                    hash.for_each_pair(|f, v| {
                        lp.push(f);
                        lp.push(v);
                    });
                    self.string(&lp.finish());
                } else {
                    self.len_usize(hash.len());
                    hash.for_each_pair(|f, v| {
                        self.string(f);
                        self.string(v);
                    });
                }
            }
            Value::Set(set) => match set {
                oxidis_core::types::Set::Intset(ints) => self.string(&ints.to_redis_bytes()),
                oxidis_core::types::Set::Table(_) => {
                    self.len_usize(set.len());
                    set.for_each_member(|m| self.string(m));
                }
            },
            Value::SortedSet(zset) => {
                if zset.encoding_name() == "listpack" {
                    let mut lp = listpack::Builder::new();
                    zset.for_each_pair(|m, score| {
                        lp.push(m);
                        push_score(&mut lp, score);
                    });
                    self.string(&lp.finish());
                } else {
                    // Highest first, as Redis writes them (each load then inserts at the head).
                    let mut pairs = Vec::with_capacity(zset.len());
                    zset.for_each_pair(|m, s| pairs.push((m.to_vec(), s)));
                    self.len_usize(pairs.len());
                    for (m, s) in pairs.iter().rev() {
                        self.string(m);
                        self.buf.extend_from_slice(&s.to_le_bytes());
                    }
                }
            }
            Value::Stream(stream) => super::stream::write(self, stream),
            // The type's 64-bit id, the module's fields, then the EOF opcode (`MODULE_2`).
            Value::Module(module) => {
                self.length(module.module_type().id());
                let mut fields = ModuleRdbWriter::new();
                module.save(&mut fields);
                self.buf.extend_from_slice(fields.as_bytes());
                self.length(module_opcode::EOF);
            }
        }
    }

    /// A list as `LIST_QUICKLIST_2`: listpack nodes cut as `list-max-listpack-size` cuts them,
    /// and elements past the packed threshold in plain nodes of their own.
    fn list(&mut self, list: &List) {
        enum Node {
            Packed(listpack::Builder),
            Plain(Vec<u8>),
        }
        let (max_bytes, max_count) = match usize::try_from(self.options.list_fill) {
            Ok(count) if count > 0 => (NODE_SIZE_SAFETY_LIMIT, count),
            _ => {
                let level = usize::try_from(self.options.list_fill.unsigned_abs())
                    .unwrap_or(1)
                    .clamp(1, 5);
                (NODE_SIZE_LEVELS[level - 1], usize::MAX)
            }
        };
        let mut nodes: Vec<Node> = Vec::new();
        for element in list.iter() {
            if element.len() >= self.options.packed_threshold {
                nodes.push(Node::Plain(element.to_vec()));
                continue;
            }
            let fits = match nodes.last() {
                Some(Node::Packed(lp)) => {
                    lp.len() < max_count && lp.bytes() + element.len() + 11 <= max_bytes
                }
                _ => false,
            };
            if !fits {
                nodes.push(Node::Packed(listpack::Builder::new()));
            }
            if let Some(Node::Packed(lp)) = nodes.last_mut() {
                lp.push(element);
            }
        }
        self.len_usize(nodes.len());
        for node in nodes {
            match node {
                Node::Plain(element) => {
                    self.length(CONTAINER_PLAIN);
                    self.string(&element);
                }
                Node::Packed(lp) => {
                    self.length(CONTAINER_PACKED);
                    self.string(&lp.finish());
                }
            }
        }
    }
}

/// A score as `zzlInsertAt` stores it: Redis's `d2string` text, which the listpack then keeps
/// as an integer when it is one.
fn push_score(lp: &mut listpack::Builder, score: f64) {
    let integral = score.fract() == 0.0 && score.abs() <= (i64::MAX / 2) as f64;
    if integral && score != 0.0 {
        // In range and integral: exact.
        lp.push_int(score as i64);
    } else if score == 0.0 {
        lp.push(if score.is_sign_negative() {
            b"-0"
        } else {
            b"0"
        });
    } else {
        lp.push(format_g17(score).as_bytes());
    }
}

/// C's `%.17g`: 17 significant digits, trailing zeros dropped, exponent form below 1e-4 or
/// from 1e17.
pub fn format_g17(value: f64) -> String {
    if value.is_nan() {
        return "nan".to_string();
    }
    if value.is_infinite() {
        return if value < 0.0 { "-inf" } else { "inf" }.to_string();
    }
    if value == 0.0 {
        return if value.is_sign_negative() { "-0" } else { "0" }.to_string();
    }
    let sci = format!("{value:.16e}");
    let (mantissa, exponent) = sci.split_once('e').unwrap_or((&sci, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let negative = mantissa.starts_with('-');
    let digits: String = mantissa.chars().filter(char::is_ascii_digit).collect();
    let mut out = String::new();
    if negative {
        out.push('-');
    }
    if (-4..17).contains(&exponent) {
        if exponent >= 0 {
            let int_len = usize::try_from(exponent).unwrap_or(0) + 1;
            out.push_str(&digits[..int_len]);
            let frac = digits[int_len..].trim_end_matches('0');
            if !frac.is_empty() {
                out.push('.');
                out.push_str(frac);
            }
        } else {
            out.push_str("0.");
            for _ in 0..(-exponent - 1) {
                out.push('0');
            }
            out.push_str(digits.trim_end_matches('0'));
        }
    } else {
        out.push_str(&digits[..1]);
        let frac = digits[1..].trim_end_matches('0');
        if !frac.is_empty() {
            out.push('.');
            out.push_str(frac);
        }
        out.push('e');
        out.push(if exponent < 0 { '-' } else { '+' });
        out.push_str(&format!("{:02}", exponent.unsigned_abs()));
    }
    out
}

/// The DUMP payload of `value`: type byte, body, RDB version (u16 LE), CRC-64 (u64 LE).
pub fn dump_payload(value: &Value, options: SaveOptions) -> Vec<u8> {
    let mut w = Writer::new(options);
    w.byte(Writer::value_type(value));
    w.value(value);
    w.buf.extend_from_slice(&RDB_VERSION.to_le_bytes());
    let crc = crc64::checksum(&w.buf);
    w.buf.extend_from_slice(&crc.to_le_bytes());
    w.buf
}

/// Whether keys carry their idle time (an LRU eviction policy).
fn saves_idle_time(config: &Config) -> bool {
    matches!(
        config.maxmemory_policy,
        MaxmemoryPolicy::AllkeysLru | MaxmemoryPolicy::VolatileLru
    )
}

/// The module types' auxiliary data for position `when` (Redis's `rdbSaveModulesAux`): per
/// type that asks for it, `MODULE_AUX`, the type's id, `when` as an unsigned field, the
/// module's fields, EOF.
fn module_aux(w: &mut Writer, server: &Server, when: u32) {
    for ty in server.modules.types.iter() {
        if ty.methods().aux_save_triggers() & when == 0 {
            continue;
        }
        w.byte(opcode::MODULE_AUX);
        w.length(ty.id());
        w.length(module_opcode::UINT);
        w.length(u64::from(when));
        let mut fields = ModuleRdbWriter::new();
        ty.methods().aux_save(when, &mut fields);
        w.buf.extend_from_slice(fields.as_bytes());
        w.length(module_opcode::EOF);
    }
}

/// What follows the last database in an RDB file before EOF: the module types' `AFTER_RDB`
/// auxiliary data.
pub fn file_trailer(server: &Server) -> Vec<u8> {
    let mut w = Writer::new(SaveOptions::from_server(server));
    module_aux(&mut w, server, module_aux::AFTER_RDB);
    w.buf
}

/// How each key's extras are written: its idle time under an LRU policy, its LFU counter under
/// an LFU one, both as of the moment the save began.
#[derive(Debug, Clone)]
pub struct EntryFormat {
    save_idle: bool,
    save_freq: bool,
    clock: u32,
    now_ms: u64,
    config: Config,
}

impl EntryFormat {
    /// The format `server`'s configuration and clocks call for now.
    pub fn from_server(server: &Server) -> EntryFormat {
        EntryFormat {
            save_idle: saves_idle_time(&server.config),
            save_freq: server.config.maxmemory_policy.is_lfu(),
            clock: server.lru_clock(),
            now_ms: server.now_ms(),
            config: server.config.clone(),
        }
    }

    /// One key: its expiry, idle time or counter, type, name and value.
    pub fn write(&self, w: &mut Writer, entry: &Entry) {
        if let Some(at) = entry.expire_at() {
            w.byte(opcode::EXPIRETIME_MS);
            w.buf.extend_from_slice(&at.to_le_bytes());
        }
        if self.save_idle {
            w.byte(opcode::IDLE);
            w.length(u64::from(self.clock.wrapping_sub(entry.access_clock)));
        } else if self.save_freq {
            w.byte(opcode::FREQ);
            let counter =
                oxidis_core::eviction::lfu_counter(&self.config, entry.access_clock, self.now_ms);
            w.byte(counter);
        }
        w.byte(Writer::value_type(&entry.value));
        w.string(entry.key.as_slice());
        w.value(&entry.value);
    }
}

/// The start of an RDB file: magic, version, AUX fields (`aof-base` says whether it is an AOF's
/// preamble) and the function libraries.
pub fn file_header(
    server: &Server,
    functions: &[Vec<u8>],
    now_unix_secs: u64,
    aof_base: bool,
) -> Writer {
    let mut w = Writer::new(SaveOptions::from_server(server));
    w.buf
        .extend_from_slice(format!("REDIS{RDB_VERSION:04}").as_bytes());
    let aux = |w: &mut Writer, key: &str, value: &[u8]| {
        w.byte(opcode::AUX);
        w.string(key.as_bytes());
        w.string(value);
    };
    aux(&mut w, "redis-ver", oxidis_core::REDIS_VERSION.as_bytes());
    aux(&mut w, "redis-bits", b"64");
    aux(&mut w, "ctime", now_unix_secs.to_string().as_bytes());
    // Redis's zmalloc counter; a walk over every key here would stall a BGSAVE's start.
    let used = oxidis_core::memory::used_memory();
    aux(&mut w, "used-mem", used.to_string().as_bytes());
    aux(
        &mut w,
        "aof-base",
        if aof_base { b"1".as_slice() } else { b"0" },
    );
    module_aux(&mut w, server, module_aux::BEFORE_RDB);
    for code in functions {
        w.byte(opcode::FUNCTION2);
        w.string(code);
    }
    w
}

/// The SELECTDB and RESIZEDB opcodes that open database `index`'s keys.
pub fn db_header(w: &mut Writer, index: usize, keys: usize, volatile: usize) {
    w.byte(opcode::SELECTDB);
    w.len_usize(index);
    w.byte(opcode::RESIZEDB);
    w.len_usize(keys);
    w.len_usize(volatile);
}

/// A whole RDB file of `server`'s dataset and function libraries.
pub fn encode_dataset(server: &Server, functions: &[Vec<u8>], now_unix_secs: u64) -> Vec<u8> {
    let mut w = file_header(server, functions, now_unix_secs, false);
    let format = EntryFormat::from_server(server);
    for (index, db) in server.dbs.iter().enumerate() {
        if db.is_empty() {
            continue;
        }
        db_header(&mut w, index, db.len(), db.volatile_len());
        for entry in db.iter() {
            format.write(&mut w, entry);
        }
    }
    module_aux(&mut w, server, module_aux::AFTER_RDB);
    w.byte(opcode::EOF);
    let crc = if server.config.rdbchecksum {
        crc64::checksum(&w.buf)
    } else {
        0
    };
    w.buf.extend_from_slice(&crc.to_le_bytes());
    w.buf
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn g17_matches_c() {
        assert_eq!(format_g17(1.5), "1.5");
        assert_eq!(format_g17(0.1), "0.10000000000000001");
        assert_eq!(format_g17(3.0), "3");
        assert_eq!(format_g17(1e20), "1e+20");
        assert_eq!(format_g17(1e16), "10000000000000000");
        assert_eq!(format_g17(1e17), "1e+17");
        assert_eq!(format_g17(0.0001), "0.0001");
        assert_eq!(format_g17(0.00001), "1.0000000000000001e-05");
        assert_eq!(format_g17(-2.5e-300), "-2.5e-300");
        assert_eq!(format_g17(f64::INFINITY), "inf");
    }

    #[test]
    fn dump_of_a_string_matches_redis() {
        // redis-cli DUMP of SET foo bar on Redis 7.0.
        let opts = SaveOptions {
            compress: true,
            list_fill: -2,
            packed_threshold: 1 << 30,
        };
        let payload = dump_payload(&Value::string(b"bar"), opts);
        assert_eq!(
            payload,
            b"\x00\x03bar\x0a\x00\xe6\xbe\x49\x60\xee\x66\xfd\x17".to_vec()
        );
        let list: List = [b"a".as_slice(), b"1"].into_iter().collect();
        assert_eq!(
            dump_payload(&Value::List(Box::new(list)), opts),
            b"\x12\x01\x02\x0c\x0c\x00\x00\x00\x02\x00\x81a\x02\x01\x01\xff\x0a\x00\x94\x96\x2b\x23\xac\x17\xaa\x85"
                .to_vec()
        );
    }
}
