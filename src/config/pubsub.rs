//! The Pub/Sub directives: `client-output-buffer-limit` (per client class: hard limit, soft
//! limit, soft seconds) and `notify-keyspace-events` (the keyspace notification classes), with
//! Redis 7.0's syntax, normalized rendering and CONFIG SET error texts.

use super::directive::{parse_memory, Directive, Kind, Value, ValueError};

const MB: u64 = 1024 * 1024;

/// One client class's output buffer limit; 0 disables a bound.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct ObufLimit {
    /// Queued bytes at which the client is disconnected at once.
    pub hard: u64,
    /// Queued bytes the client may stay above for at most `soft_seconds`.
    pub soft: u64,
    pub soft_seconds: u64,
}

/// `client-output-buffer-limit`: one limit per client class, as Redis keeps them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct OutputBufferLimits {
    pub normal: ObufLimit,
    pub replica: ObufLimit,
    pub pubsub: ObufLimit,
}

impl Default for OutputBufferLimits {
    /// Redis's defaults: `normal 0 0 0 replica 256mb 64mb 60 pubsub 32mb 8mb 60`.
    fn default() -> Self {
        OutputBufferLimits {
            normal: ObufLimit { hard: 0, soft: 0, soft_seconds: 0 },
            replica: ObufLimit { hard: 256 * MB, soft: 64 * MB, soft_seconds: 60 },
            pubsub: ObufLimit { hard: 32 * MB, soft: 8 * MB, soft_seconds: 60 },
        }
    }
}

impl OutputBufferLimits {
    /// Applies `class hard soft seconds` groups (all checked before any is applied).
    pub(super) fn apply(&mut self, args: &[String]) -> Result<(), ValueError> {
        if args.is_empty() || !args.len().is_multiple_of(4) {
            return Err(msg("Wrong number of arguments in buffer limit configuration."));
        }
        let mut next = *self;
        for group in args.chunks(4) {
            let slot = match group[0].to_ascii_lowercase().as_str() {
                "normal" => &mut next.normal,
                "slave" | "replica" => &mut next.replica,
                "pubsub" => &mut next.pubsub,
                _ => return Err(msg("Invalid client class specified in buffer limit configuration.")),
            };
            let bad = || msg("Error in hard, soft or soft_seconds setting in buffer limit configuration.");
            let hard = parse_memory(&group[1]).ok_or_else(bad)?;
            let soft = parse_memory(&group[2]).ok_or_else(bad)?;
            let soft_seconds = group[3].parse::<u64>().map_err(|_| bad())?;
            *slot = ObufLimit { hard, soft, soft_seconds };
        }
        *self = next;
        Ok(())
    }

    /// CONFIG GET's words: `normal 0 0 0 slave 268435456 67108864 60 pubsub ...`.
    pub fn words(&self) -> Vec<String> {
        let mut out = Vec::with_capacity(12);
        for (name, l) in [("normal", self.normal), ("slave", self.replica), ("pubsub", self.pubsub)] {
            out.extend([name.to_owned(), l.hard.to_string(), l.soft.to_string(), l.soft_seconds.to_string()]);
        }
        out
    }
}

fn msg(text: &str) -> ValueError {
    ValueError::Message(text.to_owned())
}

bitflags::bitflags! {
    /// Keyspace notification classes, with Redis 7.0's bit values (`NOTIFY_*` in server.h).
    #[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
    pub struct NotifyFlags: u32 {
        /// K: `__keyspace@<db>__:<key>` channels.
        const KEYSPACE = 1;
        /// E: `__keyevent@<db>__:<event>` channels.
        const KEYEVENT = 1 << 1;
        /// g: generic commands (DEL, EXPIRE, RENAME, ...).
        const GENERIC = 1 << 2;
        /// $: string commands.
        const STRING = 1 << 3;
        /// l: list commands.
        const LIST = 1 << 4;
        /// s: set commands.
        const SET = 1 << 5;
        /// h: hash commands.
        const HASH = 1 << 6;
        /// z: sorted set commands.
        const ZSET = 1 << 7;
        /// x: a key expired.
        const EXPIRED = 1 << 8;
        /// e: a key was evicted.
        const EVICTED = 1 << 9;
        /// t: stream commands.
        const STREAM = 1 << 10;
        /// m: a read missed its key.
        const KEY_MISS = 1 << 11;
        /// d: module events.
        const MODULE = 1 << 13;
        /// n: a key was created.
        const NEW = 1 << 14;
        /// A: alias for g$lshzxetd.
        const ALL = Self::GENERIC.bits() | Self::STRING.bits() | Self::LIST.bits() | Self::SET.bits()
            | Self::HASH.bits() | Self::ZSET.bits() | Self::EXPIRED.bits() | Self::EVICTED.bits()
            | Self::STREAM.bits() | Self::MODULE.bits();
    }
}

/// The class characters in the order Redis renders them (after `A` or the single classes).
const CLASS_CHARS: [(char, NotifyFlags); 11] = [
    ('g', NotifyFlags::GENERIC),
    ('$', NotifyFlags::STRING),
    ('l', NotifyFlags::LIST),
    ('s', NotifyFlags::SET),
    ('h', NotifyFlags::HASH),
    ('z', NotifyFlags::ZSET),
    ('x', NotifyFlags::EXPIRED),
    ('e', NotifyFlags::EVICTED),
    ('t', NotifyFlags::STREAM),
    ('d', NotifyFlags::MODULE),
    ('n', NotifyFlags::NEW),
];

impl NotifyFlags {
    /// Parses `notify-keyspace-events` (Redis's `keyspaceEventsStringToFlags`).
    pub fn parse(text: &str) -> Option<NotifyFlags> {
        let mut flags = NotifyFlags::empty();
        for c in text.chars() {
            flags |= match c {
                'A' => NotifyFlags::ALL,
                'K' => NotifyFlags::KEYSPACE,
                'E' => NotifyFlags::KEYEVENT,
                'm' => NotifyFlags::KEY_MISS,
                c => CLASS_CHARS.iter().find(|(ch, _)| *ch == c)?.1,
            };
        }
        Some(flags)
    }

    /// Renders as Redis's `keyspaceEventsFlagsToString` does: `A` replaces every class it
    /// covers and, as in Redis 7.0, also hides `n`; then `K`, `E`, `m`.
    pub fn render(self) -> String {
        let mut out = String::new();
        if self.contains(NotifyFlags::ALL) {
            out.push('A');
        } else {
            out.extend(CLASS_CHARS.iter().filter(|(_, f)| self.contains(*f)).map(|(c, _)| *c));
        }
        for (c, f) in [('K', NotifyFlags::KEYSPACE), ('E', NotifyFlags::KEYEVENT), ('m', NotifyFlags::KEY_MISS)] {
            if self.contains(f) {
                out.push(c);
            }
        }
        out
    }
}

pub(super) const CLIENT_OUTPUT_BUFFER_LIMIT: Directive = Directive {
    name: "client-output-buffer-limit",
    kind: Kind::List,
    mutable: true,
    get: |c| Value::List(c.client_output_buffer_limit.words()),
    set: |c, v| match v {
        Value::List(words) => c.client_output_buffer_limit.apply(&words),
        _ => Err(msg("internal error: value of the wrong kind")),
    },
};

pub(super) const NOTIFY_KEYSPACE_EVENTS: Directive = Directive {
    name: "notify-keyspace-events",
    kind: Kind::Str,
    mutable: true,
    get: |c| Value::Text(c.notify_keyspace_events.render()),
    set: |c, v| match v {
        Value::Text(text) => {
            c.notify_keyspace_events = NotifyFlags::parse(&text)
                .ok_or_else(|| msg("Invalid event class character. Use 'Ag$lshzxeKEtmdn'."))?;
            Ok(())
        }
        _ => Err(msg("internal error: value of the wrong kind")),
    },
};

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notify_flags_render_in_redis_order() {
        let r = |s: &str| NotifyFlags::parse(s).map(NotifyFlags::render);
        assert_eq!(r("KEA").as_deref(), Some("AKE"));
        assert_eq!(r("Kgx$").as_deref(), Some("g$xK"));
        assert_eq!(r("mEKndtexzhsl$").as_deref(), Some("$lshzxetdnKEm"));
        assert_eq!(r("Kgx$lshzxetmnd").as_deref(), Some("AKm"));
        assert_eq!(r("EnmdK").as_deref(), Some("dnKEm"));
        assert_eq!(r("").as_deref(), Some(""));
        assert_eq!(r("zyx"), None);
        assert!(NotifyFlags::parse("An").is_some_and(|f| f.contains(NotifyFlags::NEW)));
    }

    #[test]
    fn output_buffer_limits_parse_like_redis() {
        let mut l = OutputBufferLimits::default();
        assert_eq!(l.words().join(" "), "normal 0 0 0 slave 268435456 67108864 60 pubsub 33554432 8388608 60");
        let words = |s: &str| s.split_whitespace().map(str::to_owned).collect::<Vec<_>>();
        l.apply(&words("pubsub 1k 2kb 3 replica 1mb 1 2")).unwrap();
        assert_eq!(l.pubsub, ObufLimit { hard: 1000, soft: 2048, soft_seconds: 3 });
        assert_eq!(l.replica, ObufLimit { hard: MB, soft: 1, soft_seconds: 2 });
        let err = |s: &str| OutputBufferLimits::default().apply(&words(s)).unwrap_err().set_reason();
        assert_eq!(err("pubsub 1k"), "Wrong number of arguments in buffer limit configuration.");
        assert_eq!(err("foo 1 2 3"), "Invalid client class specified in buffer limit configuration.");
        assert_eq!(err("master 1 2 3"), "Invalid client class specified in buffer limit configuration.");
        assert_eq!(err("pubsub 1 2 x"), "Error in hard, soft or soft_seconds setting in buffer limit configuration.");
        // All or nothing.
        let mut l = OutputBufferLimits::default();
        assert!(l.apply(&words("pubsub 1 2 3 foo 1 2 3")).is_err());
        assert_eq!(l, OutputBufferLimits::default());
    }
}
