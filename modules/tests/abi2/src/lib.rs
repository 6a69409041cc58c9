//! A module built for a future major ABI version: the server must refuse it, naming both
//! versions, before any of its code runs (its init function would abort the process).

use oxidis_module_api::{AbiVersion, Error, LoadContext, declare_module};

fn init(_ctx: &mut LoadContext<'_>, _args: &[String]) -> Result<(), Error> {
    // Never reached: the server reads the version symbol first.
    std::process::abort()
}

declare_module!(
    name: "abi2",
    version: 1,
    init: init,
    abi: AbiVersion { major: 2, minor: 0 },
);
