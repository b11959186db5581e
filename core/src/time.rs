//! Timestamps as the ledger writes them: RFC 3339, UTC, milliseconds, one canonical spelling
//! (`2026-11-28T09:30:00.000Z`). Owns parsing, formatting and the claimed-time windows.

use crate::error::RuleError;
use time::format_description::well_known::Rfc3339;
use time::{OffsetDateTime, UtcOffset};

/// Milliseconds since the Unix epoch, UTC.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, serde::Serialize, serde::Deserialize)]
pub struct Timestamp(pub i64);

impl Timestamp {
    /// Parses the one canonical spelling `YYYY-MM-DDTHH:MM:SS.sssZ`; anything else is refused,
    /// so a claimed time has exactly one encoding in signed bytes.
    pub fn parse(field: &str, s: &str) -> Result<Self, RuleError> {
        let bad = || {
            RuleError::invalid(
                field,
                format!("'{s}' is not an RFC 3339 UTC time with milliseconds, like 2026-11-28T09:30:00.000Z"),
            )
        };
        if s.len() != 24 || !s.ends_with('Z') || s.as_bytes()[19] != b'.' {
            return Err(bad());
        }
        let t = OffsetDateTime::parse(s, &Rfc3339).map_err(|_| bad())?;
        let ts = Timestamp((t.unix_timestamp_nanos() / 1_000_000) as i64);
        if ts.to_rfc3339() != s {
            return Err(bad());
        }
        Ok(ts)
    }

    /// The canonical spelling.
    pub fn to_rfc3339(self) -> String {
        let t = OffsetDateTime::from_unix_timestamp_nanos(self.0 as i128 * 1_000_000)
            .unwrap_or(OffsetDateTime::UNIX_EPOCH)
            .to_offset(UtcOffset::UTC);
        format!(
            "{:04}-{:02}-{:02}T{:02}:{:02}:{:02}.{:03}Z",
            t.year(),
            t.month() as u8,
            t.day(),
            t.hour(),
            t.minute(),
            t.second(),
            t.millisecond()
        )
    }

    /// The current wall-clock time. Only the writer and clients call this; apply never does.
    pub fn now() -> Self {
        Timestamp((OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000) as i64)
    }

    /// This time plus `ms` milliseconds (saturating).
    pub fn plus_ms(self, ms: i64) -> Self {
        Timestamp(self.0.saturating_add(ms))
    }
}

/// How far a claimed time may lie from the server time that the writer stamps.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Window {
    /// How far in the past of server time a claim may be, in milliseconds.
    pub past_ms: i64,
    /// How far in the future of server time a claim may be, in milliseconds.
    pub future_ms: i64,
}

/// Title actions: the actor signs and submits at once; 5 minutes back, 1 minute ahead.
pub const TITLE_WINDOW: Window = Window { past_ms: 5 * 60_000, future_ms: 60_000 };
/// Registry records are signed offline by the operator and carried to the server: 24 hours back.
pub const REGISTRY_WINDOW: Window = Window { past_ms: 24 * 3_600_000, future_ms: 60_000 };
/// Custody events are often signed at a remote yard or on board and sent later: 24 hours back,
/// 5 minutes ahead.
pub const CUSTODY_WINDOW: Window = Window { past_ms: 24 * 3_600_000, future_ms: 5 * 60_000 };
/// Signed reads: 2 minutes either way (the replay cache keeps nonces that long).
pub const READ_WINDOW: Window = Window { past_ms: 120_000, future_ms: 120_000 };

impl Window {
    /// Refuses `claimed` unless it lies within this window around `server`.
    pub fn check(self, claimed: Timestamp, server: Timestamp) -> Result<(), RuleError> {
        let earliest = server.plus_ms(-self.past_ms);
        let latest = server.plus_ms(self.future_ms);
        if claimed < earliest || claimed > latest {
            return Err(RuleError::TimeWindow {
                claimed: claimed.to_rfc3339(),
                earliest: earliest.to_rfc3339(),
                latest: latest.to_rfc3339(),
            });
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn canonical_round_trip_and_refusals() {
        let t = Timestamp::parse("t", "2026-11-28T09:30:00.123Z").unwrap();
        assert_eq!(t.to_rfc3339(), "2026-11-28T09:30:00.123Z");
        for bad in [
            "2026-11-28T09:30:00Z",
            "2026-11-28T09:30:00.123+00:00",
            "2026-11-28t09:30:00.123Z",
            "2026-11-28T09:30:00.1234Z",
            "2026-02-30T09:30:00.123Z",
            "2026-11-28T24:00:00.000Z",
        ] {
            assert!(Timestamp::parse("t", bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn window_bounds_are_inclusive() {
        let s = Timestamp(1_000_000_000);
        let w = Window { past_ms: 10, future_ms: 5 };
        assert!(w.check(Timestamp(s.0 - 10), s).is_ok());
        assert!(w.check(Timestamp(s.0 + 5), s).is_ok());
        assert!(w.check(Timestamp(s.0 - 11), s).is_err());
        assert!(w.check(Timestamp(s.0 + 6), s).is_err());
    }
}
