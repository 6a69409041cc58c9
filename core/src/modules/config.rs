//! Module configuration parameters (Redis 7.0's `RM_Register*Config`).
//!
//! A module registers parameters at run time under `<module>.<name>`; CONFIG GET and CONFIG
//! SET see them beside the built-in ones (CONFIG SET is all-or-nothing across both), and
//! CONFIG REWRITE writes the ones that differ from their default. The server keeps each
//! parameter's value; the module hears of changes through its `on_set` callback (which may
//! refuse the value with a reason), then, once per CONFIG SET, through `on_apply`.
//! [`ModuleConfigs::unregister_owner`] drops a module's parameters when it unloads.

use crate::glob::{Case, glob_match};

/// Parameter flags (Redis's `REDISMODULE_CONFIG_*`).
pub mod flags {
    /// Only settable at load time (config file, MODULE LOADEX); CONFIG SET refuses it.
    pub const IMMUTABLE: u32 = 1 << 0;
    /// Its value is redacted from the slow log and MONITOR.
    pub const SENSITIVE: u32 = 1 << 1;
    /// Matched by CONFIG GET only through its exact name, not a pattern.
    pub const HIDDEN: u32 = 1 << 4;
    /// Settable only when `enable-protected-configs` allows it.
    pub const PROTECTED: u32 = 1 << 5;
    /// Not settable while loading.
    pub const DENY_LOADING: u32 = 1 << 6;
    /// A numeric parameter that takes memory units (`1gb`).
    pub const MEMORY: u32 = 1 << 7;
    /// An enum whose value is a set of flags (several names, space-separated).
    pub const BITFLAGS: u32 = 1 << 8;
}

/// A parameter's value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigValue {
    /// A `yes`/`no` parameter.
    Bool(bool),
    /// An integer parameter.
    Numeric(i64),
    /// A string parameter (`None`: unset, shown as empty).
    String(Option<Vec<u8>>),
    /// An enum parameter: the value of the chosen name (OR of names for BITFLAGS).
    Enum(i32),
}

/// A parameter's type, with its default and bounds.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ConfigKind {
    /// `yes`/`no`.
    Bool {
        /// The default.
        default: bool,
    },
    /// An integer between `min` and `max` inclusive.
    Numeric {
        /// The default.
        default: i64,
        /// The smallest value.
        min: i64,
        /// The largest value.
        max: i64,
    },
    /// A string.
    String {
        /// The default.
        default: Option<Vec<u8>>,
    },
    /// One of named values (or a set of them with [`flags::BITFLAGS`]).
    Enum {
        /// The default value.
        default: i32,
        /// The names and their values, in the order errors list them.
        names: Vec<(String, i32)>,
    },
}

impl ConfigKind {
    fn default_value(&self) -> ConfigValue {
        match self {
            ConfigKind::Bool { default } => ConfigValue::Bool(*default),
            ConfigKind::Numeric { default, .. } => ConfigValue::Numeric(*default),
            ConfigKind::String { default } => ConfigValue::String(default.clone()),
            ConfigKind::Enum { default, .. } => ConfigValue::Enum(*default),
        }
    }
}

/// Told of each new value of one parameter (full name, value); an `Err` refuses it, and its
/// text becomes CONFIG SET's reason.
pub type OnSet = Box<dyn FnMut(&str, &ConfigValue) -> Result<(), String> + Send>;

/// Called after a CONFIG SET (or load) set the parameter, once every value is in place; an `Err` fails
/// the CONFIG SET (values already set stay).
pub type OnApply = Box<dyn FnMut() -> Result<(), String> + Send>;

/// What a module registers.
pub struct ConfigSpec {
    /// The module's name (the part before the dot).
    pub module: String,
    /// The parameter's own name (after the dot).
    pub name: String,
    /// Its type and default.
    pub kind: ConfigKind,
    /// [`flags`] bits.
    pub flags: u32,
    /// Told of each new value.
    pub on_set: Option<OnSet>,
    /// Told after a CONFIG SET changed it.
    pub on_apply: Option<OnApply>,
}

struct Param {
    full_name: String,
    module: String,
    kind: ConfigKind,
    flags: u32,
    value: ConfigValue,
    on_set: Option<OnSet>,
    on_apply: Option<OnApply>,
}

/// Why registration failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ConfigRegistryError {
    /// The name has characters other than letters, digits, `-` and `_`, or is empty.
    #[error("invalid module config name")]
    InvalidName,
    /// A parameter of that full name exists (built-in or module).
    #[error("module config already exists")]
    Exists,
    /// An enum without names, or a default outside a numeric range.
    #[error("invalid module config definition")]
    InvalidDefinition,
}

/// The module parameters (in [`crate::modules::Modules::configs`]).
#[derive(Default)]
pub struct ModuleConfigs {
    params: Vec<Param>,
}

impl std::fmt::Debug for ModuleConfigs {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list()
            .entries(self.params.iter().map(|p| &p.full_name))
            .finish()
    }
}

impl ModuleConfigs {
    /// Registers a parameter at its default value; returns its full name `<module>.<name>`.
    ///
    /// # Errors
    /// [`ConfigRegistryError`].
    pub fn register(&mut self, spec: ConfigSpec) -> Result<String, ConfigRegistryError> {
        let valid = |s: &str| {
            !s.is_empty()
                && s.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        };
        if !valid(&spec.name) || spec.module.is_empty() {
            return Err(ConfigRegistryError::InvalidName);
        }
        match &spec.kind {
            ConfigKind::Numeric { default, min, max } if default < min || default > max => {
                return Err(ConfigRegistryError::InvalidDefinition);
            }
            ConfigKind::Enum { names, .. } if names.is_empty() => {
                return Err(ConfigRegistryError::InvalidDefinition);
            }
            _ => {}
        }
        let full_name = format!("{}.{}", spec.module, spec.name).to_ascii_lowercase();
        if self.find(&full_name).is_some() || crate::config::Config::is_known(&full_name) {
            return Err(ConfigRegistryError::Exists);
        }
        self.params.push(Param {
            value: spec.kind.default_value(),
            full_name: full_name.clone(),
            module: spec.module,
            kind: spec.kind,
            flags: spec.flags,
            on_set: spec.on_set,
            on_apply: spec.on_apply,
        });
        Ok(full_name)
    }

    /// Drops every parameter of `module` (MODULE UNLOAD).
    pub fn unregister_owner(&mut self, module: &str) {
        self.params.retain(|p| p.module != module);
    }

    fn find(&self, name: &str) -> Option<usize> {
        self.params
            .iter()
            .position(|p| p.full_name.eq_ignore_ascii_case(name))
    }

    /// Whether `name` is a module parameter.
    pub fn contains(&self, name: &[u8]) -> bool {
        std::str::from_utf8(name).is_ok_and(|n| self.find(n).is_some())
    }

    /// Whether `name` is a module parameter with the SENSITIVE flag.
    pub fn is_sensitive(&self, name: &[u8]) -> bool {
        std::str::from_utf8(name)
            .ok()
            .and_then(|n| self.find(n))
            .is_some_and(|i| self.params[i].flags & flags::SENSITIVE != 0)
    }

    /// The current value of `name`.
    pub fn value(&self, name: &str) -> Option<&ConfigValue> {
        self.find(name).map(|i| &self.params[i].value)
    }

    /// The value of `name` as CONFIG GET shows it.
    pub fn get(&self, name: &str) -> Option<Vec<u8>> {
        self.find(name).map(|i| format_value(&self.params[i]))
    }

    /// CONFIG GET's matches among module parameters for `pattern` (hidden ones only by their
    /// exact name).
    pub fn get_matching(&self, pattern: &[u8]) -> Vec<(String, Vec<u8>)> {
        let is_glob = pattern.iter().any(|b| matches!(b, b'[' | b'*' | b'?'));
        self.params
            .iter()
            .filter(|p| {
                if is_glob {
                    p.flags & flags::HIDDEN == 0
                        && glob_match(pattern, p.full_name.as_bytes(), Case::Insensitive)
                } else {
                    p.full_name.as_bytes().eq_ignore_ascii_case(pattern)
                }
            })
            .map(|p| (p.full_name.clone(), format_value(p)))
            .collect()
    }

    /// Parses `text` for parameter `name` (no mutability checks): the value, or CONFIG SET's
    /// reason.
    ///
    /// # Errors
    /// The reason text (e.g. `argument must be 'yes' or 'no'`), or `None`-like
    /// "unknown" when there is no such parameter.
    pub fn parse(&self, name: &str, text: &[u8]) -> Result<ConfigValue, String> {
        let index = self
            .find(name)
            .ok_or_else(|| "unknown module config".to_string())?;
        parse_value(&self.params[index], text)
    }

    /// Sets `name` from `text` as a config file or MODULE LOADEX does (immutable parameters
    /// too), telling the module (`on_set`, then `on_apply`).
    ///
    /// # Errors
    /// The reason the value was refused.
    pub fn set_from_text(&mut self, name: &str, text: &[u8]) -> Result<(), String> {
        let value = self.parse(name, text)?;
        let index = self
            .find(name)
            .ok_or_else(|| "unknown module config".to_string())?;
        self.store(index, value)?;
        if let Some(apply) = &mut self.params[index].on_apply {
            apply()?;
        }
        Ok(())
    }

    fn store(&mut self, index: usize, value: ConfigValue) -> Result<(), String> {
        let param = &mut self.params[index];
        if let Some(on_set) = &mut param.on_set {
            on_set(&param.full_name, &value)?;
        }
        param.value = value;
        Ok(())
    }

    /// CONFIG SET's part for module parameters: `pairs` are (name, value) of module
    /// parameters only; all are checked before any is set. The error is the full reply text.
    ///
    /// # Errors
    /// Redis's `ERR CONFIG SET failed (possibly related to argument '...') - ...` texts.
    pub fn config_set(
        &mut self,
        pairs: &[(&[u8], &[u8])],
        protected_allowed: bool,
        loading: bool,
    ) -> Result<(), String> {
        let mut parsed = Vec::with_capacity(pairs.len());
        for (name, text) in pairs {
            let name_text = String::from_utf8_lossy(name);
            let index = self.find(&name_text).ok_or_else(|| {
                format!("ERR Unknown option or number of arguments for CONFIG SET - '{name_text}'")
            })?;
            let param = &self.params[index];
            let refusal = if param.flags & flags::IMMUTABLE != 0 {
                Some("can't set immutable config".to_string())
            } else if param.flags & flags::PROTECTED != 0 && !protected_allowed {
                Some("can't set protected config".to_string())
            } else if param.flags & flags::DENY_LOADING != 0 && loading {
                Some("can't set config while loading".to_string())
            } else if parsed.iter().any(|(i, _)| *i == index) {
                Some("duplicate parameter".to_string())
            } else {
                parse_value(param, text).err()
            };
            if let Some(reason) = refusal {
                return Err(set_failed(&name_text, &reason));
            }
            parsed.push((
                index,
                parse_value(param, text).map_err(|r| set_failed(&name_text, &r))?,
            ));
        }
        let backup: Vec<(usize, ConfigValue)> = parsed
            .iter()
            .map(|(i, _)| (*i, self.params[*i].value.clone()))
            .collect();
        for (index, value) in parsed {
            if let Err(reason) = self.store(index, value) {
                let name = self.params[index].full_name.clone();
                for (i, old) in backup {
                    self.params[i].value = old;
                }
                return Err(set_failed(&name, &reason));
            }
        }
        // Then the apply callbacks, once per changed parameter, after every value is in place
        // (a module that shares one apply among its parameters dedups it on its side).
        for (index, _) in &backup {
            let param = &mut self.params[*index];
            if let Some(apply) = &mut param.on_apply {
                apply().map_err(|reason| set_failed(&param.full_name, &reason))?;
            }
        }
        Ok(())
    }

    /// What CONFIG REWRITE writes: every parameter's name, value, and whether it differs from
    /// its default (a line at the default is only kept if the file had one).
    pub fn rewrite_lines(&self) -> Vec<crate::config::rewrite::ExtraParam> {
        self.params
            .iter()
            .map(|p| {
                let changed = p.value != p.kind.default_value();
                let text = match p.kind {
                    // Strings quoted as Redis's `sdscatrepr`; the others as CONFIG GET shows.
                    ConfigKind::String { .. } => crate::config::value::repr(&format_value(p)),
                    _ => String::from_utf8_lossy(&format_value(p)).into_owned(),
                };
                (p.full_name.clone(), text, changed)
            })
            .collect()
    }

    /// Every parameter's full name, in registration order.
    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.params.iter().map(|p| p.full_name.as_str())
    }
}

/// Applies the values queued for `module`'s parameters by the config file (`mymod.limit 5`
/// lines, kept in [`Config::module_configs`](crate::config::Config::module_configs) until the
/// module loads) and by `MODULE LOADEX ... CONFIG name value` (`extra`), as Redis's
/// `RM_LoadConfigs`: each value goes through the parameter's `on_set` and `on_apply`. Applied
/// file values leave the queue.
///
/// # Errors
/// The first value refused, or a queued name the module did not register (Redis refuses to
/// load the module then).
pub fn load_queued(
    server: &mut crate::Server,
    module: &str,
    extra: &[(String, Vec<u8>)],
) -> Result<(), String> {
    let prefix = format!("{}.", module.to_ascii_lowercase());
    let (mine, others): (Vec<_>, Vec<_>) = std::mem::take(&mut server.config.module_configs)
        .into_iter()
        .partition(|(name, _)| name.to_ascii_lowercase().starts_with(&prefix));
    server.config.module_configs = others;
    let queued = mine
        .into_iter()
        .map(|(name, value)| (name, value.into_bytes()))
        .chain(extra.iter().cloned());
    for (name, value) in queued {
        if server.modules.configs.find(&name).is_none() {
            return Err(format!(
                "Module Configuration detected without loadmodule directive or no ApplyConfig call: {name}"
            ));
        }
        server
            .modules
            .configs
            .set_from_text(&name, &value)
            .map_err(|reason| format!("Issue during loading of configuration {name} : {reason}"))?;
    }
    Ok(())
}

fn set_failed(name: &str, reason: &str) -> String {
    format!("ERR CONFIG SET failed (possibly related to argument '{name}') - {reason}")
}

fn parse_value(param: &Param, text: &[u8]) -> Result<ConfigValue, String> {
    match &param.kind {
        ConfigKind::Bool { .. } => crate::config::value::parse_yes_no(text)
            .map(ConfigValue::Bool)
            .ok_or_else(|| "argument must be 'yes' or 'no'".to_string()),
        ConfigKind::Numeric { min, max, .. } => {
            let n = if param.flags & flags::MEMORY != 0 {
                crate::config::value::parse_memory(text)
                    .and_then(|n| i64::try_from(n).ok())
                    .ok_or_else(|| "argument must be a memory value".to_string())?
            } else {
                std::str::from_utf8(text)
                    .ok()
                    .and_then(|t| t.parse::<i64>().ok())
                    .ok_or_else(|| "argument couldn't be parsed into an integer".to_string())?
            };
            if n < *min || n > *max {
                return Err(format!(
                    "argument must be between {min} and {max} inclusive"
                ));
            }
            Ok(ConfigValue::Numeric(n))
        }
        ConfigKind::String { .. } => Ok(ConfigValue::String(Some(text.to_vec()))),
        ConfigKind::Enum { names, .. } => {
            let lookup = |word: &[u8]| {
                names
                    .iter()
                    .find(|(n, _)| n.as_bytes().eq_ignore_ascii_case(word))
                    .map(|(_, v)| *v)
            };
            let value = if param.flags & flags::BITFLAGS != 0 {
                text.split(|&b| b == b' ')
                    .filter(|w| !w.is_empty())
                    .try_fold(0i32, |acc, w| lookup(w).map(|v| acc | v))
            } else {
                lookup(text)
            };
            value.map(ConfigValue::Enum).ok_or_else(|| {
                let list: Vec<&str> = names.iter().map(|(n, _)| n.as_str()).collect();
                format!(
                    "argument(s) must be one of the following: {}",
                    list.join(", ")
                )
            })
        }
    }
}

fn format_value(param: &Param) -> Vec<u8> {
    match (&param.value, &param.kind) {
        (ConfigValue::Bool(b), _) => {
            if *b {
                b"yes".to_vec()
            } else {
                b"no".to_vec()
            }
        }
        (ConfigValue::Numeric(n), _) => n.to_string().into_bytes(),
        (ConfigValue::String(s), _) => s.clone().unwrap_or_default(),
        (ConfigValue::Enum(v), ConfigKind::Enum { names, .. }) => {
            if param.flags & flags::BITFLAGS != 0 {
                // Exact names first, then the flags left, as Redis's enum formatting.
                let mut left = *v;
                let mut parts = Vec::new();
                for (name, value) in names {
                    if *value != 0 && left & value == *value {
                        parts.push(name.as_str());
                        left &= !value;
                    }
                }
                if parts.is_empty()
                    && let Some((name, _)) = names.iter().find(|(_, value)| *value == 0)
                {
                    parts.push(name);
                }
                parts.join(" ").into_bytes()
            } else {
                names
                    .iter()
                    .find(|(_, value)| value == v)
                    .map(|(n, _)| n.clone().into_bytes())
                    .unwrap_or_default()
            }
        }
        (ConfigValue::Enum(v), _) => v.to_string().into_bytes(),
    }
}
