//! Signed title statements: what the ledger says, under its own key, about who holds a bill now,
//! bound to a signed checkpoint by the inclusion proof of the bill's title head. A log proves
//! that records are in it, not that nothing came after them; the statement answers "who holds
//! title now" and fixes when it was said. Owns the statement's one text form, signing it, and
//! opening a signed one (signature, strict parse, the head's inclusion under the statement's
//! own checkpoint line). Which state it describes is the caller's (the ledger replays the bill).
//!
//! A statement is a C2SP signed note whose text is line-based (`docs/transparency.md`):
//!
//! ```text
//! ebl.v1/title-statement
//! origin <origin>
//! time <RFC 3339 ms>
//! bill <hex bill id>
//! document <hex RFC 8785 checksum>
//! status <ISSUED|SURRENDERED|ACCOMPLISHED|VOID|SWITCHED_TO_PAPER>
//! possessor <party>
//! entitled <party>
//! pledge <pledgee> <POSSESSION|ENDORSEMENT> <enforced|unenforced>   (only while pledged)
//! surrender <DELIVERY|SWTP|COD|SWI> <party>                         (only while pending)
//! hold <customs> <log index> <JSON string declaration>              (one per customs hold)
//! head <position> <log index> <hex record hash>
//! custody-head <position> <log index> <hex record hash>             (only with custody records)
//! registry-head <position> <log index> <hex record hash>
//! operator <hex public key>
//! checkpoint <size> <base64 root>
//! entry <base64 of the head's 80-byte log entry>
//! proof <base64 hash>                                               (the head's audit path)
//! ```
//!
//! The first line is the domain tag: the note is signed with the same key and name as the
//! ledger's checkpoints, and a checkpoint's first line is the origin, so neither text can pass
//! for the other. Parsing is strict: the text must be exactly what formatting the parsed
//! statement gives, so each statement has one byte string and one signature input.

use crate::bill::{BillState, Status, SurrenderKind};
use crate::custody::CustodyState;
use crate::hash::Hash32;
use crate::ids::{BillId, PartyId};
use crate::log::error::{NoteError, ProofError};
use crate::log::key::{KeyKind, VerifierKey};
use crate::log::note::SignedNote;
use crate::log::text::{b64_decode, b64_encode, parse_decimal};
use crate::log::verify::{verify_inclusion, MAX_INCLUSION_PROOF};
use crate::log::LogEntry;
use crate::record::PledgeMode;
use crate::sig::PublicKey;
use crate::time::Timestamp;
use ed25519_dalek::SigningKey;
use std::fmt::{self, Write as _};

/// The statement's first line: its domain tag.
pub const STATEMENT_TAG: &str = "ebl.v1/title-statement";

/// A record at the head of a chain: its chain position, its log index and its hash.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChainHead {
    /// Position in its chain.
    pub position: u64,
    /// Global sequence number (leaf index).
    pub seq: u64,
    /// Record hash.
    pub hash: Hash32,
}

/// A pledge as the statement shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatedPledge {
    /// The bank holding the bill as security.
    pub pledgee: PartyId,
    /// How.
    pub mode: PledgeMode,
    /// Whether enforced.
    pub enforced: bool,
}

/// A customs hold as the statement shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatedHold {
    /// The customs party.
    pub customs: PartyId,
    /// Log index of its CUSTOMS_HOLD record.
    pub since_seq: u64,
    /// Declaration number.
    pub declaration: String,
}

/// A pending surrender as the statement shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatedSurrender {
    /// `DELIVERY`, `SWTP`, `COD` or `SWI`.
    pub kind: String,
    /// Who surrendered.
    pub by: PartyId,
}

/// The title of a bill as a statement gives it: what the bill's replay must reproduce.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StatedTitle {
    /// The bill.
    pub bill: BillId,
    /// RFC 8785 checksum of its transport document.
    pub document: Hash32,
    /// Life-cycle status.
    pub status: Status,
    /// Who controls the bill.
    pub possessor: PartyId,
    /// Who is entitled to the goods.
    pub entitled: PartyId,
    /// The pledge, while one stands.
    pub pledge: Option<StatedPledge>,
    /// The surrender, while it is pending.
    pub surrender: Option<StatedSurrender>,
    /// Active customs holds, in the bill's order.
    pub holds: Vec<StatedHold>,
    /// The title chain's head.
    pub head: ChainHead,
}

impl StatedTitle {
    /// The title of a bill in state `bill` with custody `custody`.
    pub fn of(bill: &BillState, custody: Option<&CustodyState>) -> Self {
        let pending = bill.status == Status::Surrendered;
        StatedTitle {
            bill: bill.id,
            document: bill.document_checksum,
            status: bill.status,
            possessor: bill.possessor.clone(),
            entitled: bill.entitled().clone(),
            pledge: bill.pledge.as_ref().map(|p| StatedPledge {
                pledgee: p.pledgee.clone(),
                mode: p.mode,
                enforced: p.enforced,
            }),
            surrender: bill.surrender.as_ref().filter(|_| pending).map(|s| StatedSurrender {
                kind: match s.kind {
                    SurrenderKind::Delivery => "DELIVERY".to_string(),
                    SurrenderKind::Amendment(r) => r.code().to_string(),
                },
                by: s.by.clone(),
            }),
            holds: custody
                .map(|c| {
                    c.holds
                        .iter()
                        .map(|h| StatedHold {
                            customs: h.customs.clone(),
                            since_seq: h.since_seq,
                            declaration: h.declaration.clone(),
                        })
                        .collect()
                })
                .unwrap_or_default(),
            head: ChainHead { position: bill.head_position, seq: bill.head_seq, hash: bill.head },
        }
    }
}

/// What the ledger states about a bill at a time, bound to a checkpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TitleStatement {
    /// The ledger's origin (the log key's name).
    pub origin: String,
    /// When the ledger made the statement (its clock).
    pub time: Timestamp,
    /// The bill's title.
    pub title: StatedTitle,
    /// The custody chain's head, once there is one.
    pub custody_head: Option<ChainHead>,
    /// The registry chain's head when the statement was made.
    pub registry_head: ChainHead,
    /// The operator's public key (it signs the registry records).
    pub operator: PublicKey,
    /// Size of the checkpoint the statement is bound to.
    pub checkpoint_size: u64,
    /// Root of that checkpoint.
    pub checkpoint_root: Hash32,
    /// The head's log entry.
    pub entry: LogEntry,
    /// The head's inclusion proof in that checkpoint, leaf's sibling first.
    pub proof: Vec<Hash32>,
}

/// Why a statement was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StatementError {
    /// The text is not a statement in its one form.
    #[error("line {line}: {why}")]
    Malformed {
        /// 1-based line number (0: the whole text).
        line: usize,
        /// What is wrong.
        why: String,
    },
    /// The note or its signature.
    #[error("{0}")]
    Note(#[from] NoteError),
    /// The head's inclusion proof does not verify under the statement's checkpoint.
    #[error("head inclusion proof: {0}")]
    Inclusion(#[from] ProofError),
    /// The parts of the statement contradict each other or the log key.
    #[error("{0}")]
    Inconsistent(String),
}

fn status_of(s: &str) -> Option<Status> {
    [Status::Issued, Status::Surrendered, Status::Accomplished, Status::Void, Status::SwitchedToPaper]
        .into_iter()
        .find(|st| st.name() == s)
}

fn mode_of(s: &str) -> Option<PledgeMode> {
    [PledgeMode::Possession, PledgeMode::Endorsement].into_iter().find(|m| m.name() == s)
}

impl TitleStatement {
    /// Signs the statement with the ledger key (named by the origin): a note with one line.
    pub fn sign(&self, key: &SigningKey) -> Result<SignedNote, NoteError> {
        SignedNote::sign(&self.to_string(), &self.origin, key)
    }

    /// Opens a signed statement: a valid signature by `log_key` (other lines are ignored, as the
    /// signed-note rules have it), the strict text, its origin the key's name, the entry naming
    /// the head, and the head's inclusion under the statement's checkpoint line.
    pub fn open(note: &SignedNote, log_key: &VerifierKey) -> Result<Self, StatementError> {
        if log_key.kind() != KeyKind::Ed25519 {
            return Err(NoteError::WrongKeyKind {
                name: log_key.name().to_string(),
                why: "a ledger key signs notes with Ed25519 (type 0x01)",
            }
            .into());
        }
        let verified = note.verify(std::slice::from_ref(log_key)).map_err(|e| match e {
            NoteError::NoKnownSignature => NoteError::MissingLogSignature { name: log_key.name().to_string() },
            e => e,
        })?;
        debug_assert!(!verified.is_empty());
        let st = Self::parse(note.text())?;
        if st.origin != log_key.name() {
            return Err(StatementError::Inconsistent(format!(
                "origin {:?} is not the ledger key's name {:?}",
                st.origin,
                log_key.name()
            )));
        }
        st.check_bound()?;
        Ok(st)
    }

    /// The checks that need no key: the entry names the head, and the head is in the checkpoint.
    pub fn check_bound(&self) -> Result<(), StatementError> {
        let head = &self.title.head;
        if self.entry.record_hash != head.hash || self.entry.seq != head.seq {
            return Err(StatementError::Inconsistent(format!(
                "entry is for record {} at log index {}, the head is {} at {}",
                self.entry.record_hash, self.entry.seq, head.hash, head.seq
            )));
        }
        for (what, h) in [("custody-head", self.custody_head), ("registry-head", Some(self.registry_head))] {
            if let Some(h) = h.filter(|h| h.seq >= self.checkpoint_size) {
                return Err(StatementError::Inconsistent(format!(
                    "{what} at log index {} is not in the checkpoint of size {}",
                    h.seq, self.checkpoint_size
                )));
            }
        }
        verify_inclusion(head.seq, self.checkpoint_size, &self.entry.leaf_hash(), &self.proof, &self.checkpoint_root)?;
        Ok(())
    }

    /// Parses a statement text strictly (see the module doc).
    pub fn parse(text: &str) -> Result<Self, StatementError> {
        let body = text.strip_suffix('\n').ok_or_else(|| bad(0, "does not end with a newline"))?;
        let mut c = Lines { lines: body.split('\n').collect(), at: 0 };
        if c.lines[0] != STATEMENT_TAG {
            return Err(bad(1, &format!("expected {STATEMENT_TAG:?}")));
        }
        c.at = 1;
        let (_, origin) = c.one("origin")?;
        let (i, time) = c.one("time")?;
        let time = Timestamp::parse("time", &time).map_err(|e| bad(i, &e.to_string()))?;
        let (i, bill) = c.one("bill")?;
        let bill = BillId(hash(i, &bill)?);
        let (i, document) = c.one("document")?;
        let document = hash(i, &document)?;
        let (i, status) = c.one("status")?;
        let status = status_of(&status).ok_or_else(|| bad(i, "unknown status"))?;
        let (i, possessor) = c.one("possessor")?;
        let possessor = party(i, &possessor)?;
        let (i, entitled) = c.one("entitled")?;
        let entitled = party(i, &entitled)?;
        let pledge = match c.opt("pledge") {
            Some((i, w)) => {
                let [who, mode, enforced] = words(i, w, "pledgee, mode, enforced")?;
                let enforced = match enforced.as_str() {
                    "enforced" => true,
                    "unenforced" => false,
                    _ => return Err(bad(i, "expected enforced or unenforced")),
                };
                let mode = mode_of(&mode).ok_or_else(|| bad(i, "unknown pledge mode"))?;
                Some(StatedPledge { pledgee: party(i, &who)?, mode, enforced })
            }
            None => None,
        };
        let surrender = match c.opt("surrender") {
            Some((i, w)) => {
                let [kind, by] = words(i, w, "kind and party")?;
                if !["DELIVERY", "SWTP", "COD", "SWI"].contains(&kind.as_str()) {
                    return Err(bad(i, "unknown surrender kind"));
                }
                Some(StatedSurrender { kind, by: party(i, &by)? })
            }
            None => None,
        };
        let mut holds = Vec::new();
        while let Some((i, w)) = c.opt("hold") {
            if w.len() < 3 {
                return Err(bad(i, "expected customs, log index, declaration"));
            }
            let declaration: String =
                serde_json::from_str(&w[2..].join(" ")).map_err(|_| bad(i, "declaration is not a JSON string"))?;
            holds.push(StatedHold { customs: party(i, &w[0])?, since_seq: dec(i, &w[1])?, declaration });
        }
        let head = chain_head(c.need("head")?)?;
        let custody_head = c.opt("custody-head").map(chain_head).transpose()?;
        let registry_head = chain_head(c.need("registry-head")?)?;
        let (i, operator) = c.one("operator")?;
        let operator = PublicKey(hash(i, &operator)?.0);
        let (i, w) = c.need("checkpoint")?;
        let [size, root] = words(i, w, "size and root")?;
        let checkpoint_size = dec(i, &size)?;
        let checkpoint_root = b64_decode(&root)
            .and_then(|b| Hash32::from_slice(&b))
            .ok_or_else(|| bad(i, "root is not 32 bytes of canonical base64"))?;
        let (i, entry) = c.one("entry")?;
        let entry = b64_decode(&entry)
            .and_then(|b| LogEntry::decode(&b))
            .ok_or_else(|| bad(i, "entry is not 80 bytes of canonical base64"))?;
        let mut proof = Vec::new();
        while let Some((i, w)) = c.opt("proof") {
            let [h] = words(i, w, "one hash")?;
            proof
                .push(b64_decode(&h).and_then(|b| Hash32::from_slice(&b)).ok_or_else(|| bad(i, "not a 32-byte hash"))?);
            if proof.len() > MAX_INCLUSION_PROOF {
                return Err(bad(i, "more proof hashes than a u64-sized tree needs"));
            }
        }
        if c.at < c.lines.len() {
            return Err(bad(c.at + 1, "unexpected line"));
        }
        crate::log::key::check_key_name(&origin)?;
        let title = StatedTitle { bill, document, status, possessor, entitled, pledge, surrender, holds, head };
        let st = TitleStatement {
            origin,
            time,
            title,
            custody_head,
            registry_head,
            operator,
            checkpoint_size,
            checkpoint_root,
            entry,
            proof,
        };
        if st.to_string() != text {
            return Err(bad(0, "not in the statement's one canonical form"));
        }
        Ok(st)
    }
}

fn bad(line: usize, why: &str) -> StatementError {
    StatementError::Malformed { line, why: why.to_string() }
}

fn party(i: usize, s: &str) -> Result<PartyId, StatementError> {
    PartyId::parse("party", s).map_err(|e| bad(i, &e.to_string()))
}

fn hash(i: usize, s: &str) -> Result<Hash32, StatementError> {
    Hash32::from_hex(s).ok_or_else(|| bad(i, "expected 64 hex digits"))
}

fn dec(i: usize, s: &str) -> Result<u64, StatementError> {
    parse_decimal(s).ok_or_else(|| bad(i, "expected a decimal without leading zeros"))
}

fn words<const N: usize>(i: usize, w: Vec<String>, what: &str) -> Result<[String; N], StatementError> {
    <[String; N]>::try_from(w).map_err(|_| bad(i, &format!("expected {what}")))
}

fn chain_head((i, w): (usize, Vec<String>)) -> Result<ChainHead, StatementError> {
    let [p, s, h] = words(i, w, "position, log index and record hash")?;
    Ok(ChainHead { position: dec(i, &p)?, seq: dec(i, &s)?, hash: hash(i, &h)? })
}

/// A cursor over the statement's lines: each field has its place, optional ones may be absent.
struct Lines<'a> {
    lines: Vec<&'a str>,
    at: usize,
}

impl Lines<'_> {
    /// The next line if it is a `key ...` line: its 1-based number and the words after the key.
    fn opt(&mut self, key: &str) -> Option<(usize, Vec<String>)> {
        let rest = self.lines.get(self.at)?.strip_prefix(key)?.strip_prefix(' ')?;
        self.at += 1;
        Some((self.at, rest.split(' ').map(str::to_string).collect()))
    }

    fn need(&mut self, key: &str) -> Result<(usize, Vec<String>), StatementError> {
        let line = self.at + 1;
        self.opt(key).ok_or_else(|| bad(line, &format!("expected the {key:?} line")))
    }

    fn one(&mut self, key: &str) -> Result<(usize, String), StatementError> {
        let (i, w) = self.need(key)?;
        let [v] = words(i, w, "one value")?;
        Ok((i, v))
    }
}

impl fmt::Display for TitleStatement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let head = |h: &ChainHead| format!("{} {} {}", h.position, h.seq, h.hash);
        let mut s = String::new();
        let _ = writeln!(s, "{STATEMENT_TAG}");
        let _ = writeln!(s, "origin {}", self.origin);
        let _ = writeln!(s, "time {}", self.time.to_rfc3339());
        let t = &self.title;
        let _ = writeln!(s, "bill {}", t.bill);
        let _ = writeln!(s, "document {}", t.document);
        let _ = writeln!(s, "status {}", t.status.name());
        let _ = writeln!(s, "possessor {}", t.possessor);
        let _ = writeln!(s, "entitled {}", t.entitled);
        if let Some(p) = &t.pledge {
            let enforced = if p.enforced { "enforced" } else { "unenforced" };
            let _ = writeln!(s, "pledge {} {} {enforced}", p.pledgee, p.mode.name());
        }
        if let Some(p) = &t.surrender {
            let _ = writeln!(s, "surrender {} {}", p.kind, p.by);
        }
        for h in &t.holds {
            let decl = serde_json::to_string(&h.declaration).unwrap_or_default();
            let _ = writeln!(s, "hold {} {} {decl}", h.customs, h.since_seq);
        }
        let _ = writeln!(s, "head {}", head(&t.head));
        if let Some(c) = &self.custody_head {
            let _ = writeln!(s, "custody-head {}", head(c));
        }
        let _ = writeln!(s, "registry-head {}", head(&self.registry_head));
        let _ = writeln!(s, "operator {}", self.operator.to_hex());
        let _ = writeln!(s, "checkpoint {} {}", self.checkpoint_size, b64_encode(&self.checkpoint_root.0));
        let _ = writeln!(s, "entry {}", b64_encode(&self.entry.encode()));
        for p in &self.proof {
            let _ = writeln!(s, "proof {}", b64_encode(&p.0));
        }
        f.write_str(&s)
    }
}

#[cfg(test)]
mod tests;
