//! A Bloom filter data type: the shortest module with its own type.
//!
//! - `BF.RESERVE key error_rate capacity` creates an empty filter sized for `capacity` items at
//!   false-positive rate `error_rate`.
//! - `BF.ADD key item` adds an item (creating a filter of 1000 items at 1% if needed): 1 if it
//!   was new, 0 if it may have been added before.
//! - `BF.EXISTS key item`: 1 if it may have been added, 0 if it certainly was not.
//! - `BF.INFO key`: capacity, size, hash functions, items inserted.
//! - `BF.LOADRAW key capacity error_rate hashes items bits`: rebuilds a filter (what the AOF
//!   rewrite writes).
//!
//! The type saves itself in RDB files (and so DUMP/RESTORE), rewrites itself into the AOF,
//! copies (COPY), reports its memory (MEMORY USAGE) and feeds DEBUG DIGEST.

use oxidis_module_api::{
    Args, Command, Context, DataType, Error, LoadContext, RdbIn, RdbOut, Reply, TypeSlot,
    declare_module, notify,
};

/// The filter: `bits` (a multiple of 64), `hashes` probes per item.
#[derive(Debug, Clone, PartialEq)]
struct Bloom {
    capacity: u64,
    error_rate: f64,
    hashes: u64,
    items: u64,
    bits: Vec<u64>,
}

impl Bloom {
    fn new(capacity: u64, error_rate: f64) -> Bloom {
        let n = capacity.max(1) as f64;
        let ln2 = std::f64::consts::LN_2;
        let bits = (-(n * error_rate.ln()) / (ln2 * ln2)).ceil().max(64.0);
        let hashes = ((bits / n) * ln2).round().clamp(1.0, 32.0) as u64;
        let words = (bits as u64).div_ceil(64) as usize;
        Bloom {
            capacity,
            error_rate,
            hashes,
            items: 0,
            bits: vec![0; words],
        }
    }

    /// Bit positions of `item`: double hashing over FNV-1a (stable across builds, as saved
    /// filters need).
    fn positions(&self, item: &[u8]) -> impl Iterator<Item = usize> + '_ {
        let mut h1: u64 = 0xcbf2_9ce4_8422_2325;
        for b in item {
            h1 = (h1 ^ u64::from(*b)).wrapping_mul(0x0100_0000_01b3);
        }
        let mut h2 = h1 ^ (h1 >> 33);
        h2 = h2.wrapping_mul(0xff51_afd7_ed55_8ccd) | 1;
        let total = (self.bits.len() * 64) as u64;
        (0..self.hashes).map(move |i| (h1.wrapping_add(i.wrapping_mul(h2)) % total) as usize)
    }

    fn add(&mut self, item: &[u8]) -> bool {
        let positions: Vec<usize> = self.positions(item).collect();
        let mut new = false;
        for p in positions {
            let (word, bit) = (p / 64, 1u64 << (p % 64));
            new |= self.bits[word] & bit == 0;
            self.bits[word] |= bit;
        }
        if new {
            self.items += 1;
        }
        new
    }

    fn contains(&self, item: &[u8]) -> bool {
        self.positions(item)
            .all(|p| self.bits[p / 64] & (1u64 << (p % 64)) != 0)
    }

    fn bit_bytes(&self) -> Vec<u8> {
        self.bits.iter().flat_map(|w| w.to_le_bytes()).collect()
    }

    fn from_parts(
        capacity: u64,
        error_rate: f64,
        hashes: u64,
        items: u64,
        raw: &[u8],
    ) -> Option<Bloom> {
        if raw.is_empty() || !raw.len().is_multiple_of(8) || hashes == 0 || hashes > 32 {
            return None;
        }
        let bits = raw
            .chunks_exact(8)
            .map(|c| u64::from_le_bytes(c.try_into().unwrap_or_default()))
            .collect();
        Some(Bloom {
            capacity,
            error_rate,
            hashes,
            items,
            bits,
        })
    }
}

static BLOOM: TypeSlot<Bloom> = TypeSlot::new();

struct BloomType;

impl DataType for BloomType {
    type Value = Bloom;

    fn rdb_save(&self, value: &Bloom, out: &mut RdbOut) {
        out.unsigned(value.capacity);
        out.double(value.error_rate);
        out.unsigned(value.hashes);
        out.unsigned(value.items);
        out.bytes(&value.bit_bytes());
    }

    fn rdb_load(&self, input: &mut RdbIn<'_>, encver: u32) -> Result<Bloom, Error> {
        if encver != 1 {
            return Err(Error::new(format!(
                "unknown bloom encoding version {encver}"
            )));
        }
        let (capacity, error_rate) = (input.unsigned()?, input.double()?);
        let (hashes, items) = (input.unsigned()?, input.unsigned()?);
        Bloom::from_parts(capacity, error_rate, hashes, items, &input.bytes()?)
            .ok_or_else(|| Error::new("corrupt bloom filter"))
    }

    fn aof_rewrite(&self, value: &Bloom, key: &[u8]) -> Vec<Vec<Vec<u8>>> {
        vec![vec![
            b"BF.LOADRAW".to_vec(),
            key.to_vec(),
            value.capacity.to_string().into_bytes(),
            value.error_rate.to_string().into_bytes(),
            value.hashes.to_string().into_bytes(),
            value.items.to_string().into_bytes(),
            value.bit_bytes(),
        ]]
    }

    fn mem_usage(&self, value: &Bloom) -> usize {
        std::mem::size_of::<Bloom>() + value.bits.len() * 8
    }

    fn copy(&self, value: &Bloom) -> Option<Bloom> {
        Some(value.clone())
    }

    fn digest(&self, value: &Bloom) -> Vec<Vec<u8>> {
        vec![value.items.to_string().into_bytes(), value.bit_bytes()]
    }
}

fn parse_f64(arg: &[u8]) -> Option<f64> {
    std::str::from_utf8(arg).ok()?.parse().ok()
}

fn reserve(ctx: &mut Context<'_>, args: &Args<'_>) -> Result<Reply, Error> {
    let key = args.bytes(1)?;
    let error_rate = parse_f64(args.bytes(2)?)
        .filter(|r| *r > 0.0 && *r < 1.0)
        .ok_or_else(|| Error::new("ERR (0 < error rate range < 1)"))?;
    let capacity = args.i64(3)?;
    let capacity = u64::try_from(capacity)
        .ok()
        .filter(|c| (1..=1 << 30).contains(c))
        .ok_or_else(|| Error::new("ERR (capacity should be larger than 0)"))?;
    let ty = BLOOM.get()?;
    if ctx.value_mut(key, ty)?.is_some() || ctx.exists(key)? {
        return Err(Error::new("ERR item exists"));
    }
    ctx.set_value(key, ty, Bloom::new(capacity, error_rate))?;
    ctx.replicate_verbatim();
    Ok(Reply::ok())
}

fn add(ctx: &mut Context<'_>, args: &Args<'_>) -> Result<Reply, Error> {
    let (key, item) = (args.bytes(1)?, args.bytes(2)?);
    let ty = BLOOM.get()?;
    let added = match ctx.value_mut(key, ty)? {
        Some(filter) => filter.add(item),
        None => {
            let mut filter = Bloom::new(1000, 0.01);
            filter.add(item);
            ctx.set_value(key, ty, filter)?;
            true
        }
    };
    ctx.replicate_verbatim();
    ctx.notify(notify::MODULE, "bf.add", key);
    Ok(Reply::Int(i64::from(added)))
}

fn exists(ctx: &mut Context<'_>, args: &Args<'_>) -> Result<Reply, Error> {
    let (key, item) = (args.bytes(1)?, args.bytes(2)?);
    let found = ctx
        .value_mut(key, BLOOM.get()?)?
        .is_some_and(|filter| filter.contains(item));
    Ok(Reply::Int(i64::from(found)))
}

fn info(ctx: &mut Context<'_>, args: &Args<'_>) -> Result<Reply, Error> {
    let Some(filter) = ctx.value_mut(args.bytes(1)?, BLOOM.get()?)? else {
        return Err(Error::new("ERR not found"));
    };
    let int = |n: u64| Reply::Int(i64::try_from(n).unwrap_or(i64::MAX));
    let size = (filter.bits.len() * 8) as u64;
    Ok(Reply::Map(vec![
        (Reply::Simple("Capacity".into()), int(filter.capacity)),
        (Reply::Simple("Size".into()), int(size)),
        (
            Reply::Simple("Number of hash functions".into()),
            int(filter.hashes),
        ),
        (
            Reply::Simple("Number of items inserted".into()),
            int(filter.items),
        ),
    ]))
}

fn loadraw(ctx: &mut Context<'_>, args: &Args<'_>) -> Result<Reply, Error> {
    let key = args.bytes(1)?;
    let number = |i: usize| -> Result<u64, Error> {
        u64::try_from(args.i64(i)?).map_err(|_| Error::new("ERR negative number"))
    };
    let error_rate = parse_f64(args.bytes(3)?).ok_or_else(|| Error::new("ERR bad error rate"))?;
    let filter = Bloom::from_parts(
        number(2)?,
        error_rate,
        number(4)?,
        number(5)?,
        args.bytes(6)?,
    )
    .ok_or_else(|| Error::new("ERR corrupt bloom filter"))?;
    ctx.set_value(key, BLOOM.get()?, filter)?;
    ctx.replicate_verbatim();
    Ok(Reply::ok())
}

fn init(ctx: &mut LoadContext<'_>, _args: &[String]) -> Result<(), Error> {
    BLOOM.set(ctx.create_data_type("oxbloomfl", 1, BloomType)?);
    let write = |name: &str, arity: i32, f| {
        Command::new(name, arity, f)
            .flags("write deny-oom")
            .keys(1, 1, 1)
            .acl("write")
    };
    let read = |name: &str, f| {
        Command::new(name, 3, f)
            .flags("readonly fast")
            .keys(1, 1, 1)
            .acl("read")
    };
    ctx.create_command(write("bf.reserve", 4, reserve).docs(
        "Creates an empty Bloom filter",
        "1.0.0",
        "O(1)",
    ))?;
    ctx.create_command(write("bf.add", 3, add).docs(
        "Adds an item to a Bloom filter",
        "1.0.0",
        "O(k)",
    ))?;
    ctx.create_command(read("bf.exists", exists).docs(
        "Checks whether an item may be in a Bloom filter",
        "1.0.0",
        "O(k)",
    ))?;
    ctx.create_command(read("bf.info", info).arity(2).docs(
        "Describes a Bloom filter",
        "1.0.0",
        "O(1)",
    ))?;
    ctx.create_command(write("bf.loadraw", 7, loadraw).docs(
        "Restores a Bloom filter's state (AOF rewrite)",
        "1.0.0",
        "O(n)",
    ))?;
    Ok(())
}

declare_module!(name: "bloom", version: 1, init: init);
