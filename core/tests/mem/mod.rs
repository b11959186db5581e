//! The core's in-memory state ([`MemoryState`]) with the sequence number tests stamp records at:
//! records applied in order, no I/O.
#![allow(dead_code)]
use ebl_core::apply::{Checked, Stamp};
use ebl_core::memory::MemoryState;
use ebl_core::sig::PublicKey;
use ebl_core::time::Timestamp;
use std::ops::{Deref, DerefMut};

/// A [`MemoryState`] and the next global sequence number.
#[derive(Default, Clone, PartialEq, Debug)]
pub struct Mem {
    pub state: MemoryState,
    pub seq: u64,
}

impl Deref for Mem {
    type Target = MemoryState;
    fn deref(&self) -> &MemoryState {
        &self.state
    }
}

impl DerefMut for Mem {
    fn deref_mut(&mut self) -> &mut MemoryState {
        &mut self.state
    }
}

impl Mem {
    /// Applies `rec` at the next sequence number and `time`; on a refusal nothing changes.
    pub fn run(&mut self, rec: &Checked, op: &PublicKey, time: Timestamp) -> ebl_core::Result<()> {
        self.state.apply(rec, Stamp { seq: self.seq, time }, op)?;
        self.seq += 1;
        Ok(())
    }
}
