//! A module built against `oxidis-module-api` 1.0.0 (the frozen crate in `modules/api-1.0`): its
//! command reads a key through the 1.0 API, and its data type has only the 1.0 callbacks, so
//! the server falls back to the defaults of those added since (free effort, unlink).
//!
//! - `OLD.GET key` → the string at `key` (`ctx.get`, the 1.0 copy-out read).
//! - `OLD.NEW key n` → stores an `old-type1` value of `n` numbers at `key`.
//! - `OLD.LEN key` → how many numbers the value at `key` holds.

use oxidis_module_api::{
    Args, Command, Context, DataType, Error, LoadContext, RdbIn, RdbOut, Reply, TypeSlot,
    declare_module,
};

static NUMBERS: TypeSlot<Vec<u64>> = TypeSlot::new();

struct Numbers;

impl DataType for Numbers {
    type Value = Vec<u64>;

    fn rdb_save(&self, value: &Vec<u64>, out: &mut RdbOut) {
        out.unsigned(value.len() as u64);
        value.iter().for_each(|n| out.unsigned(*n));
    }

    fn rdb_load(&self, input: &mut RdbIn<'_>, _encver: u32) -> Result<Vec<u64>, Error> {
        let len = input.unsigned()?;
        (0..len).map(|_| input.unsigned()).collect()
    }
}

fn get(ctx: &mut Context<'_>, args: &Args<'_>) -> Result<Reply, Error> {
    Ok(ctx.get(args.bytes(1)?)?.map_or(Reply::Null, Reply::Bulk))
}

fn new(ctx: &mut Context<'_>, args: &Args<'_>) -> Result<Reply, Error> {
    let n = u64::try_from(args.i64(2)?).map_err(|_| Error::new("negative length"))?;
    ctx.set_value(args.bytes(1)?, NUMBERS.get()?, (0..n).collect())?;
    ctx.replicate_verbatim();
    Ok(Reply::ok())
}

fn len(ctx: &mut Context<'_>, args: &Args<'_>) -> Result<Reply, Error> {
    let len = ctx
        .value_mut(args.bytes(1)?, NUMBERS.get()?)?
        .map_or(0, |v| v.len());
    Ok(Reply::Int(i64::try_from(len).unwrap_or(i64::MAX)))
}

fn init(ctx: &mut LoadContext<'_>, _args: &[String]) -> Result<(), Error> {
    NUMBERS.set(ctx.create_data_type("old-type1", 0, Numbers)?);
    ctx.create_command(Command::new("old.get", 2, get).flags("readonly fast").keys(1, 1, 1))?;
    ctx.create_command(Command::new("old.new", 3, new).flags("write deny-oom").keys(1, 1, 1))?;
    ctx.create_command(Command::new("old.len", 2, len).flags("readonly").keys(1, 1, 1))
}

declare_module!(name: "api10", version: 1, init: init);
