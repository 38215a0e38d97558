//! What a configuration directive is: its value kinds with their limits, parsing and rendering
//! (Redis's units, yes/no, lists), and the `Directive` row that the registry's table is made of.

use super::Config;
use crate::splitargs::{quote_if_needed, repr};

pub(super) const KB: u64 = 1024;
pub(super) const MB: u64 = 1024 * KB;
pub(super) const GB: u64 = 1024 * MB;

/// What a directive's value is, with its limits. Drives parsing, rendering
/// and validation.
#[derive(Clone, Copy, Debug)]
pub(super) enum Kind {
    /// `yes` / `no`.
    Bool,
    /// A plain integer in `min..=max` (strict: no sign, no leading zeros).
    Int { min: u64, max: u64 },
    /// A signed integer in `min..=max` (`slowlog-log-slower-than -1`).
    Signed { min: i64, max: i64 },
    /// A byte count with optional Redis units, in `min..=max`.
    Memory { min: u64, max: u64 },
    /// One of the listed lowercase names (matched case-insensitively).
    Enum(&'static [&'static str]),
    /// Any string, possibly empty.
    Str,
    /// A non-empty filesystem path.
    Path,
    /// One or more words on one line (`bind 127.0.0.1 ::1`).
    List,
}

/// A directive's value in kind-neutral form.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum Value {
    Bool(bool),
    Int(u64),
    Signed(i64),
    Text(String),
    List(Vec<String>),
}

/// Why a value was rejected. Rendered differently at start-up (file and
/// command line) and for CONFIG SET, whose texts follow Redis exactly.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) enum ValueError {
    WrongArgCount,
    NotInteger {
        min: u64,
        max: u64,
    },
    OutOfRange {
        min: u64,
        max: u64,
    },
    /// A value Strata refuses on purpose (the message is the whole error).
    Unsupported(&'static str),
    Message(String),
}

impl ValueError {
    /// The reason as shown in start-up errors.
    pub(super) fn load_reason(&self) -> String {
        match self {
            Self::NotInteger { min, max } | Self::OutOfRange { min, max } => {
                format!("argument must be an integer in {min}..={max}")
            }
            _ => self.set_reason(),
        }
    }

    /// The reason as CONFIG SET reports it (Redis's wording).
    pub(super) fn set_reason(&self) -> String {
        match self {
            Self::WrongArgCount => "wrong number of arguments".to_owned(),
            Self::NotInteger { .. } => "argument couldn't be parsed into an integer".to_owned(),
            Self::OutOfRange { min, max } => {
                format!("argument must be between {min} and {max} inclusive")
            }
            Self::Unsupported(message) => (*message).to_owned(),
            Self::Message(message) => message.clone(),
        }
    }
}

fn mismatch() -> ValueError {
    ValueError::Message("internal error: value of the wrong kind".to_owned())
}

impl Value {
    pub(super) fn into_bool(self) -> Result<bool, ValueError> {
        match self {
            Self::Bool(b) => Ok(b),
            _ => Err(mismatch()),
        }
    }

    pub(super) fn into_int<T: TryFrom<u64>>(self) -> Result<T, ValueError> {
        match self {
            Self::Int(n) => T::try_from(n).map_err(|_| ValueError::Message("argument out of range".to_owned())),
            _ => Err(mismatch()),
        }
    }

    pub(super) fn into_signed(self) -> Result<i64, ValueError> {
        match self {
            Self::Signed(n) => Ok(n),
            _ => Err(mismatch()),
        }
    }

    pub(super) fn into_text(self) -> Result<String, ValueError> {
        match self {
            Self::Text(s) => Ok(s),
            _ => Err(mismatch()),
        }
    }

    pub(super) fn into_list(self) -> Result<Vec<String>, ValueError> {
        match self {
            Self::List(l) => Ok(l),
            _ => Err(mismatch()),
        }
    }

    pub(super) fn into_enum<T>(self, from_name: fn(&str) -> Option<T>) -> Result<T, ValueError> {
        from_name(&self.into_text()?).ok_or_else(mismatch)
    }
}

impl Kind {
    /// Parses the arguments that followed the directive name.
    pub(super) fn parse(self, args: &[String]) -> Result<Value, ValueError> {
        if let Self::List = self {
            return if args.is_empty() { Err(ValueError::WrongArgCount) } else { Ok(Value::List(args.to_vec())) };
        }
        let [arg] = args else {
            return Err(ValueError::WrongArgCount);
        };
        let value = match self {
            Self::Bool => {
                if arg.eq_ignore_ascii_case("yes") {
                    Value::Bool(true)
                } else if arg.eq_ignore_ascii_case("no") {
                    Value::Bool(false)
                } else {
                    return Err(ValueError::Message("argument must be 'yes' or 'no'".to_owned()));
                }
            }
            Self::Int { min, max } => {
                let n = parse_strict_i64(arg).ok_or(ValueError::NotInteger { min, max })?;
                // Negative numbers fail the range check, like Redis's
                // unsigned configs.
                Value::Int(u64::try_from(n).map_err(|_| ValueError::OutOfRange { min, max })?)
            }
            Self::Signed { min, max } => {
                let n = parse_strict_i64(arg)
                    .ok_or_else(|| ValueError::Message("argument couldn't be parsed into an integer".to_owned()))?;
                if !(min..=max).contains(&n) {
                    return Err(ValueError::Message(format!("argument must be between {min} and {max} inclusive")));
                }
                Value::Signed(n)
            }
            Self::Memory { .. } => Value::Int(
                parse_memory(arg).ok_or_else(|| ValueError::Message("argument must be a memory value".to_owned()))?,
            ),
            Self::Enum(names) => {
                let name = names.iter().find(|name| name.eq_ignore_ascii_case(arg)).ok_or_else(|| {
                    ValueError::Message(format!("argument(s) must be one of the following: {}", names.join(", ")))
                })?;
                Value::Text((*name).to_owned())
            }
            Self::Str | Self::Path => Value::Text(arg.clone()),
            Self::List => return Err(mismatch()),
        };
        self.check(&value)?;
        Ok(value)
    }

    /// Checks a value against this kind's limits.
    pub(super) fn check(self, value: &Value) -> Result<(), ValueError> {
        match (self, value) {
            (Self::Int { min, max }, Value::Int(n)) if !(min..=max).contains(n) => {
                Err(ValueError::OutOfRange { min, max })
            }
            (Self::Memory { min, max }, Value::Int(n)) if !(min..=max).contains(n) => {
                Err(ValueError::Message(format!("argument must be between {min} and {max} inclusive")))
            }
            (Self::Enum(names), Value::Text(s)) if !names.contains(&s.as_str()) => {
                Err(ValueError::Message(format!("argument(s) must be one of the following: {}", names.join(", "))))
            }
            (Self::Path, Value::Text(s)) if s.is_empty() => {
                Err(ValueError::Message("argument must not be empty".to_owned()))
            }
            (Self::List, Value::List(l)) if l.is_empty() => Err(ValueError::WrongArgCount),
            (Self::Signed { min, max }, Value::Signed(n)) if !(min..=max).contains(n) => {
                Err(ValueError::Message(format!("argument must be between {min} and {max} inclusive")))
            }
            (Self::Bool, Value::Bool(_))
            | (Self::Signed { .. }, Value::Signed(_))
            | (Self::Int { .. } | Self::Memory { .. }, Value::Int(_))
            | (Self::Enum(_) | Self::Str | Self::Path, Value::Text(_))
            | (Self::List, Value::List(_)) => Ok(()),
            _ => Err(mismatch()),
        }
    }

    /// The value as CONFIG GET shows it: memory sizes as byte counts, lists
    /// space-joined.
    pub(super) fn render(self, value: &Value) -> String {
        match value {
            Value::Bool(b) => yes_no(*b).to_owned(),
            Value::Int(n) => n.to_string(),
            Value::Signed(n) => n.to_string(),
            Value::Text(s) => s.clone(),
            Value::List(l) => l.join(" "),
        }
    }

    /// The value as redis.conf syntax (what follows the directive name), the
    /// way CONFIG REWRITE writes it: memory sizes with units when exact,
    /// strings quoted.
    pub(super) fn render_conf(self, value: &Value) -> String {
        match (self, value) {
            (Self::Memory { .. }, Value::Int(n)) => format_memory(*n),
            (Self::Str | Self::Path, Value::Text(s)) => repr(s),
            (_, Value::List(l)) => l.iter().map(|word| quote_if_needed(word)).collect::<Vec<_>>().join(" "),
            _ => self.render(value),
        }
    }
}

fn yes_no(b: bool) -> &'static str {
    if b {
        "yes"
    } else {
        "no"
    }
}

/// Parses an integer like Redis's `string2ll`: optional `-`, no `+`, no
/// leading zeros, no spaces, no overflow.
fn parse_strict_i64(s: &str) -> Option<i64> {
    let digits = s.strip_prefix('-').unwrap_or(s);
    let well_formed = s == "0"
        || (digits.bytes().all(|b| b.is_ascii_digit()) && matches!(digits.as_bytes().first(), Some(b'1'..=b'9')));
    if well_formed {
        s.parse().ok()
    } else {
        None
    }
}

/// Parses a memory size with Redis units: plain bytes (optionally suffixed
/// `b`), `k`=1000, `kb`=1024, `m`=10^6, `mb`=2^20, `g`=10^9, `gb`=2^30, units
/// case-insensitive. `None` if malformed, negative or overflowing `u64`.
pub fn parse_memory(s: &str) -> Option<u64> {
    let unit_at = s.bytes().position(|b| !b.is_ascii_digit()).unwrap_or(s.len());
    let (digits, unit) = s.split_at(unit_at);
    if digits.is_empty() {
        return None;
    }
    let multiplier = match unit.to_ascii_lowercase().as_str() {
        "" | "b" => 1,
        "k" => 1000,
        "kb" => KB,
        "m" => 1000 * 1000,
        "mb" => MB,
        "g" => 1000 * 1000 * 1000,
        "gb" => GB,
        _ => return None,
    };
    digits.parse::<u64>().ok()?.checked_mul(multiplier)
}

/// Renders a byte count the way Redis's CONFIG REWRITE does: the largest of
/// `gb`/`mb`/`kb` that divides it exactly, else plain bytes.
pub(super) fn format_memory(bytes: u64) -> String {
    match bytes {
        0 => "0".to_owned(),
        b if b % GB == 0 => format!("{}gb", b / GB),
        b if b % MB == 0 => format!("{}mb", b / MB),
        b if b % KB == 0 => format!("{}kb", b / KB),
        b => b.to_string(),
    }
}

/// One configuration directive.
pub(super) struct Directive {
    /// Lowercase directive name, as in redis.conf and CONFIG GET.
    pub name: &'static str,
    pub kind: Kind,
    /// Whether CONFIG SET may change it.
    pub mutable: bool,
    /// Reads the current value out of a [`Config`].
    pub get: fn(&Config) -> Value,
    /// Stores an already parsed value into a [`Config`]; may still refuse it.
    pub set: fn(&mut Config, Value) -> Result<(), ValueError>,
}

impl Directive {
    /// The current value as CONFIG GET renders it.
    pub(super) fn render(&self, config: &Config) -> String {
        self.kind.render(&(self.get)(config))
    }

    /// The full redis.conf line for the current value.
    pub(super) fn conf_line(&self, config: &Config) -> String {
        format!("{} {}", self.name, self.kind.render_conf(&(self.get)(config)))
    }

    /// Parses `args` and stores the result into `config`.
    pub(super) fn apply(&self, config: &mut Config, args: &[String]) -> Result<(), ValueError> {
        let value = self.kind.parse(args)?;
        (self.set)(config, value)
    }
}
