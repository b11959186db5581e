//! Commands: what sequencing hands to apply, and exactly what a replicated log will carry (one
//! command, one log entry). A command is a group of records, each as its payload bytes and its
//! signatures encoded exactly as received, with the one server time sequencing gave the group.
//! It holds no sequence numbers: apply assigns those.
//!
//! The byte format, version 1 (integers big-endian; docs/architecture.md, "Commands"):
//!
//! ```text
//! "EBLC"  u8 version = 1  i64 time (ms since the Unix epoch)  u32 count
//! count × ( u32 payload length, payload bytes, u32 signatures length, signatures bytes )
//! ```
//!
//! The signatures bytes are the record's repeated `signatures` field (protobuf field 2 of
//! `SignedRecord`) as received: each log leaf commits to them, so they are never re-encoded.
//! Decoding refuses anything else: another magic or version, a length past the end, trailing
//! bytes, a command over [`MAX_COMMAND_BYTES`], signatures not in their one canonical encoding,
//! and any record that fails its order-free checks (bytes, shape, hash, signatures).

use crate::error::LedgerError;
use crate::pb;
use crate::wire::entry::{checked_signatures, encoded_signatures};
use ebl_core::apply::Checked;
use ebl_core::sig::StrongKeys;
use ebl_core::time::Timestamp;
use prost::Message;

/// The version of the command byte format this build writes and reads.
pub const COMMAND_VERSION: u8 = 1;

const MAGIC: &[u8; 4] = b"EBLC";
const HEADER_BYTES: usize = MAGIC.len() + 1 + 8 + 4;

/// Largest encoded command. A record alone always fits (its payload is at most
/// [`crate::service::MAX_PAYLOAD_BYTES`]); sequencing starts a new command when the next record
/// would not.
pub const MAX_COMMAND_BYTES: usize = 8 * 1024 * 1024;

/// A group of checked records with the server time sequencing gave it.
#[derive(Debug, Clone)]
pub struct Command {
    /// The server time of the group (apply never lets the ledger's time run backwards).
    pub time: Timestamp,
    /// The records, in the order they are applied.
    pub records: Vec<Checked>,
}

/// Why bytes are not a command.
#[derive(Debug, thiserror::Error)]
pub enum CommandError {
    /// The bytes are not a version-1 command.
    #[error("not a command: {0}")]
    Format(String),
    /// A record of the command fails its order-free checks.
    #[error("record {index} of the command: {err}")]
    Record {
        /// Its place in the command.
        index: usize,
        /// Why.
        err: LedgerError,
    },
}

/// The bytes a record adds to a command.
pub fn record_bytes(rec: &Checked) -> usize {
    8 + rec.bytes.len() + checked_signatures(rec).len()
}

/// Whether records adding up to `records` bytes ([`record_bytes`]) fit in one command.
pub fn fits(records: usize) -> bool {
    HEADER_BYTES + records <= MAX_COMMAND_BYTES
}

impl Command {
    /// The command's encoded size.
    pub fn encoded_len(&self) -> usize {
        HEADER_BYTES + self.records.iter().map(record_bytes).sum::<usize>()
    }

    /// The command in the byte format of [`COMMAND_VERSION`].
    pub fn encode(&self) -> Vec<u8> {
        let mut out = Vec::with_capacity(self.encoded_len());
        out.extend_from_slice(MAGIC);
        out.push(COMMAND_VERSION);
        out.extend_from_slice(&self.time.0.to_be_bytes());
        out.extend_from_slice(&(self.records.len() as u32).to_be_bytes());
        for rec in &self.records {
            for part in [&rec.bytes[..], &checked_signatures(rec)] {
                out.extend_from_slice(&(part.len() as u32).to_be_bytes());
                out.extend_from_slice(part);
            }
        }
        out
    }

    /// Decodes a command and checks each of its records again for ledger `origin` (every
    /// order-free check, signatures included: a command from elsewhere is not trusted).
    pub fn decode(bytes: &[u8], origin: &str) -> Result<Command, CommandError> {
        Command::decode_with(bytes, origin, &StrongKeys::default())
    }

    /// [`Command::decode`], with the keys already checked in `keys` (the store's).
    pub fn decode_with(bytes: &[u8], origin: &str, keys: &StrongKeys) -> Result<Command, CommandError> {
        let format = |why: &str| CommandError::Format(why.into());
        if bytes.len() > MAX_COMMAND_BYTES {
            return Err(format("longer than the largest command"));
        }
        let mut r = Reader(bytes);
        if r.take(MAGIC.len())? != MAGIC {
            return Err(format("it does not start with \"EBLC\""));
        }
        let version = r.take(1)?[0];
        if version != COMMAND_VERSION {
            return Err(CommandError::Format(format!(
                "format version {version}; this build reads version {COMMAND_VERSION}"
            )));
        }
        let time = Timestamp(i64::from_be_bytes(r.array()?));
        let count = u32::from_be_bytes(r.array()?) as usize;
        let mut records = Vec::with_capacity(count.min(bytes.len() / 8));
        for index in 0..count {
            let payload = r.part()?.to_vec();
            let sigs = r.part()?;
            let signed = pb::SignedRecord::decode(sigs).map_err(|e| format(&format!("record {index}: {e}")))?;
            if !signed.payload.is_empty() || encoded_signatures(&signed.signatures) != sigs {
                return Err(CommandError::Format(format!(
                    "record {index}: the signatures are not in their one canonical encoding"
                )));
            }
            let rec = pb::SignedRecord { payload, signatures: signed.signatures };
            let checked = crate::service::check_record_with(rec, origin, keys)
                .map_err(|err| CommandError::Record { index, err })?;
            records.push(checked);
        }
        if !r.0.is_empty() {
            return Err(format("bytes after the last record"));
        }
        Ok(Command { time, records })
    }
}

/// A cursor over a command's bytes.
struct Reader<'a>(&'a [u8]);

impl<'a> Reader<'a> {
    fn take(&mut self, n: usize) -> Result<&'a [u8], CommandError> {
        if self.0.len() < n {
            return Err(CommandError::Format("it ends early".into()));
        }
        let (head, rest) = self.0.split_at(n);
        self.0 = rest;
        Ok(head)
    }

    fn array<const N: usize>(&mut self) -> Result<[u8; N], CommandError> {
        Ok(self.take(N)?.try_into().expect("took N bytes"))
    }

    fn part(&mut self) -> Result<&'a [u8], CommandError> {
        let len = u32::from_be_bytes(self.array()?) as usize;
        self.take(len)
    }
}

/// A file of commands (what `ebld apply-commands` reads): one frame per command, its log index
/// (u64 BE), its length (u32 BE) and its bytes.
pub fn frame(index: u64, cmd: &[u8]) -> Vec<u8> {
    [&index.to_be_bytes()[..], &(cmd.len() as u32).to_be_bytes(), cmd].concat()
}

/// The frames of a file of commands: each command's index and bytes, in order.
pub fn frames(file: &[u8]) -> Result<Vec<(u64, &[u8])>, CommandError> {
    let mut r = Reader(file);
    let mut out = Vec::new();
    while !r.0.is_empty() {
        let index = u64::from_be_bytes(r.array()?);
        out.push((index, r.part()?));
    }
    Ok(out)
}
