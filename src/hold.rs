//! Whether the ledger may write now, asked in one place by the writer (before every group), by
//! `GetInfo` and by the write health service: not while the disk is under its reserve
//! (UNAVAILABLE `DISK_RESERVE`, which clears itself once space returns), and never again in this
//! run once the log has halted (FAILED_PRECONDITION with the halting reason: the tree does not
//! extend a checkpoint the log published).

use crate::checkpoint::LogState;
use crate::error::LedgerError;
use crate::store::space::Reserve;
use std::sync::Arc;

/// The conditions under which every write is refused.
#[derive(Debug, Clone)]
pub struct WriteHold {
    reserve: Reserve,
    log: Arc<LogState>,
}

impl WriteHold {
    /// Writes wait on `reserve` and stop for good once `log` halts.
    pub fn new(reserve: Reserve, log: Arc<LogState>) -> Self {
        WriteHold { reserve, log }
    }

    /// Refuses if the ledger may not write now; the halt is looked at first.
    pub fn check(&self) -> Result<(), LedgerError> {
        if let Some(h) = self.log.halted() {
            let why = format!(
                "{}: the log has halted and takes no record until its operator recovers it (ebld recover)",
                h.message
            );
            return Err(LedgerError::Halted { reason: h.reason, why });
        }
        self.reserve.check()
    }
}

/// The health service that says whether the ledger can write now.
pub const WRITE_HEALTH: &str = "ebl.v1.Ledger.Write";

/// Keeps [`WRITE_HEALTH`] NOT_SERVING while writes are refused (the disk under its reserve, or
/// the log halted), looking every second; the overall health stays SERVING while reads work.
pub async fn write_health(reporter: tonic_health::server::HealthReporter, hold: WriteHold) {
    let mut last = None;
    loop {
        let refused = tokio::task::spawn_blocking({
            let hold = hold.clone();
            move || hold.check().err()
        })
        .await
        .unwrap_or_else(|e| Some(crate::error::LedgerError::Internal(e.to_string())));
        let ok = refused.is_none();
        if last != Some(ok) {
            let status =
                if ok { tonic_health::ServingStatus::Serving } else { tonic_health::ServingStatus::NotServing };
            reporter.set_service_status(WRITE_HEALTH, status).await;
            if let Some(e) = refused {
                tracing::warn!(error = %e, "writes refused");
            }
            last = Some(ok);
        }
        tokio::time::sleep(std::time::Duration::from_secs(1)).await;
    }
}
