//! A DID's operation log and the rules that tie its operations together: the
//! genesis derives the DID, each operation builds on (`prev`) a live earlier one
//! and is signed by a rotation key of it, timestamps increase, tombstones end the
//! log, and a fork may nullify later operations only when signed by a key of higher
//! priority than the one that signed the first nullified operation, within 72 hours
//! of it.
//!
//! [`PlcState`] is both the verifier of a whole audit log (as served by a PLC
//! directory's `/log/audit`) and the incremental judge the daemon's built-in PLC
//! directory asks about each new operation. It holds no clock: callers pass times.

use super::doc::{DidDocument, PlcData};
use super::plc::{SignedOp, UpdateBuilder, check_prev};
use super::{PlcError, check};
use chrono::{DateTime, TimeDelta, Timelike, Utc};
use cid::Cid;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// How long after an operation a higher-priority rotation key may still nullify it.
pub const RECOVERY_WINDOW: TimeDelta = TimeDelta::hours(72);

/// One entry of an audit log, in the PLC directory's JSON shape
/// (`{did, operation, cid, nullified, createdAt}`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct LogEntry {
    /// The DID the operation belongs to.
    pub did: String,
    /// The signed operation.
    pub operation: SignedOp,
    /// The operation's CID.
    #[serde(with = "cid_string")]
    pub cid: Cid,
    /// Whether a later fork nullified it.
    pub nullified: bool,
    /// When the directory accepted it (millisecond precision).
    #[serde(with = "timestamp")]
    pub created_at: DateTime<Utc>,
}

/// What accepting an operation did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Applied {
    /// The new operation's CID.
    pub cid: Cid,
    /// Index of the rotation key that signed it, in the keys of the operation it
    /// builds on (for a genesis, in its own keys).
    pub signer: usize,
    /// Operations this one nullified, oldest first (empty unless it forked).
    pub nullified: Vec<Cid>,
}

/// Which constraints an operation must meet on top of the chain rules.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Rules {
    /// New operations: every constraint of the spec.
    Strict,
    /// Operations already in a directory's log: the chain and signature rules only,
    /// because real logs hold operations accepted under older, looser rules (empty
    /// or duplicated rotation keys, legacy creates).
    Historical,
}

/// Per-entry facts the rules need, kept beside the public entries.
#[derive(Debug, Clone)]
struct Meta {
    /// Index of the signing key among the keys of the operation built on.
    signer: usize,
    /// The rotation keys this operation hands control to (empty for a tombstone).
    rotation_keys: Vec<String>,
}

/// The verified state of one did:plc: every operation ever accepted (the audit
/// log, nullified ones included) and the current head.
#[derive(Debug, Clone)]
pub struct PlcState {
    did: String,
    entries: Vec<LogEntry>,
    meta: Vec<Meta>,
}

/// Directories keep millisecond timestamps; so do we, so that a log written out
/// and read back is judged exactly as it was when accepted.
fn to_millis(t: DateTime<Utc>) -> DateTime<Utc> {
    let ms = t.nanosecond() / 1_000_000 * 1_000_000;
    t.with_nanosecond(ms).unwrap_or(t)
}

impl PlcState {
    /// Start a new DID from a signed genesis operation (strict rules). The DID is
    /// derived from the operation.
    pub fn create(op: SignedOp, created_at: DateTime<Utc>) -> Result<(Self, Applied), PlcError> {
        Self::genesis(None, op, created_at, Rules::Strict)
    }

    fn genesis(
        expected_did: Option<&str>,
        op: SignedOp,
        created_at: DateTime<Utc>,
        rules: Rules,
    ) -> Result<(Self, Applied), PlcError> {
        if rules == Rules::Strict {
            op.check_constraints()?;
        }
        let did = op.genesis_did()?;
        if let Some(expected) = expected_did
            && expected != did
        {
            return Err(PlcError::DidMismatch {
                did: expected.to_string(),
                derived: did,
            });
        }
        let rotation_keys = op.op.rotation_keys();
        let signer = op.verify(&rotation_keys)?;
        let cid = op.cid()?;
        let state = PlcState {
            did: did.clone(),
            entries: vec![LogEntry {
                did,
                operation: op,
                cid,
                nullified: false,
                created_at: to_millis(created_at),
            }],
            meta: vec![Meta {
                signer,
                rotation_keys,
            }],
        };
        let applied = Applied {
            cid,
            signer,
            nullified: Vec::new(),
        };
        Ok((state, applied))
    }

    /// Verify a whole audit log (oldest first, nullified entries included) for
    /// `did`: each entry is judged as the directory judged it when it arrived, its
    /// `cid` must be its operation's, and its `nullified` flag must be what the
    /// rules say.
    ///
    /// Old logs are judged by the chain and signature rules only; see
    /// [`PlcState::apply_historical`].
    pub fn from_log(did: &str, entries: &[LogEntry]) -> Result<Self, PlcError> {
        if !check::is_did_plc(did) {
            return Err(PlcError::NotDidPlc(did.to_string()));
        }
        let (first, rest) = entries.split_first().ok_or(PlcError::EmptyLog)?;
        Self::check_entry(did, first)?;
        let (mut state, _) = Self::genesis(
            Some(did),
            first.operation.clone(),
            first.created_at,
            Rules::Historical,
        )?;
        for entry in rest {
            Self::check_entry(did, entry)?;
            state.apply_with(entry.operation.clone(), entry.created_at, Rules::Historical)?;
        }
        for (claimed, actual) in entries.iter().zip(&state.entries) {
            if claimed.nullified != actual.nullified {
                return Err(PlcError::NullifiedMismatch {
                    cid: claimed.cid.to_string(),
                    claimed: claimed.nullified,
                    actual: actual.nullified,
                });
            }
        }
        Ok(state)
    }

    fn check_entry(did: &str, entry: &LogEntry) -> Result<(), PlcError> {
        if entry.did != did {
            return Err(PlcError::WrongDid {
                expected: did.to_string(),
                found: entry.did.clone(),
            });
        }
        let computed = entry.operation.cid()?;
        if computed != entry.cid {
            return Err(PlcError::CidMismatch {
                claimed: entry.cid.to_string(),
                computed: computed.to_string(),
            });
        }
        Ok(())
    }

    /// Accept or refuse a new operation arriving at `now`, under every constraint
    /// of the spec. On success the operation is appended and any operations it
    /// nullifies are marked so; on failure nothing changes.
    pub fn apply(&mut self, op: SignedOp, now: DateTime<Utc>) -> Result<Applied, PlcError> {
        self.apply_with(op, now, Rules::Strict)
    }

    /// Like [`PlcState::apply`], but for an operation another directory already
    /// accepted (mirroring its export): only the chain and signature rules apply,
    /// not the field constraints, which were looser when old operations arrived.
    pub fn apply_historical(
        &mut self,
        op: SignedOp,
        created_at: DateTime<Utc>,
    ) -> Result<Applied, PlcError> {
        self.apply_with(op, created_at, Rules::Historical)
    }

    fn apply_with(
        &mut self,
        op: SignedOp,
        created_at: DateTime<Utc>,
        rules: Rules,
    ) -> Result<Applied, PlcError> {
        let created_at = to_millis(created_at);
        if rules == Rules::Strict {
            op.check_constraints()?;
        }
        let cid = op.cid()?;
        if self.entries.iter().any(|e| e.cid == cid) {
            return Err(PlcError::DuplicateOperation(cid.to_string()));
        }
        let prev = op.op.prev().ok_or(PlcError::UnexpectedGenesis)?;
        let prev_cid = check_prev(prev)?;
        let prev_idx = self
            .entries
            .iter()
            .position(|e| e.cid == prev_cid)
            .ok_or_else(|| PlcError::PrevNotFound(prev.to_string()))?;
        let (prev_entry, prev_meta) = match (self.entries.get(prev_idx), self.meta.get(prev_idx)) {
            (Some(e), Some(m)) => (e, m),
            _ => return Err(PlcError::PrevNotFound(prev.to_string())),
        };
        if prev_entry.nullified {
            return Err(PlcError::PrevNullified(prev.to_string()));
        }
        if prev_entry.operation.is_tombstone() {
            return Err(PlcError::PrevIsTombstone(prev.to_string()));
        }
        let head = self.head();
        if created_at <= head.created_at {
            return Err(PlcError::TimestampOrder {
                at: timestamp::format(&created_at),
                latest: timestamp::format(&head.created_at),
            });
        }

        let signer = op.verify(&prev_meta.rotation_keys)?;

        // Live operations after prev form a straight line from it; a fork from
        // prev nullifies all of them, and is judged against the first.
        let later: Vec<usize> = (prev_idx + 1..self.entries.len())
            .filter(|&i| self.entries.get(i).is_some_and(|e| !e.nullified))
            .collect();
        if let Some(&first) = later.first()
            && let (Some(disputed_entry), Some(disputed_meta)) =
                (self.entries.get(first), self.meta.get(first))
        {
            if signer >= disputed_meta.signer {
                return Err(PlcError::InsufficientPriority {
                    signer,
                    disputed: disputed_meta.signer,
                });
            }
            let elapsed = created_at - disputed_entry.created_at;
            if elapsed > RECOVERY_WINDOW {
                return Err(PlcError::LateRecovery {
                    elapsed_secs: elapsed.num_seconds(),
                });
            }
        }

        let mut nullified = Vec::with_capacity(later.len());
        for i in later {
            if let Some(e) = self.entries.get_mut(i) {
                e.nullified = true;
                nullified.push(e.cid);
            }
        }
        let rotation_keys = op.op.rotation_keys();
        self.entries.push(LogEntry {
            did: self.did.clone(),
            operation: op,
            cid,
            nullified: false,
            created_at,
        });
        self.meta.push(Meta {
            signer,
            rotation_keys,
        });
        Ok(Applied {
            cid,
            signer,
            nullified,
        })
    }

    /// The DID.
    pub fn did(&self) -> &str {
        &self.did
    }

    /// The latest live entry (the genesis can never be nullified, so there is one).
    pub fn head(&self) -> &LogEntry {
        // `entries` is never empty and its first entry is never nullified.
        let live = self.entries.iter().rev().find(|e| !e.nullified);
        match live {
            Some(e) => e,
            None => &self.entries[0],
        }
    }

    /// The latest live operation (a PLC directory's `/log/last`).
    pub fn last_op(&self) -> &SignedOp {
        &self.head().operation
    }

    /// Whether the DID is deactivated.
    pub fn is_tombstoned(&self) -> bool {
        self.last_op().is_tombstone()
    }

    /// The current document data (a PLC directory's `/data`); `None` once tombstoned.
    pub fn data(&self) -> Option<PlcData> {
        PlcData::from_op(&self.did, self.last_op())
    }

    /// The current DID document; `None` once tombstoned.
    pub fn document(&self) -> Option<DidDocument> {
        self.data().map(|d| DidDocument::from_plc_data(&d))
    }

    /// Every accepted operation, oldest first, nullified ones included
    /// (`/log/audit`).
    pub fn audit_log(&self) -> &[LogEntry] {
        &self.entries
    }

    /// The live operations, oldest first (`/log`).
    pub fn ops(&self) -> Vec<&SignedOp> {
        self.entries
            .iter()
            .filter(|e| !e.nullified)
            .map(|e| &e.operation)
            .collect()
    }

    /// Start an update on top of the current head.
    pub fn update(&self) -> Result<UpdateBuilder, PlcError> {
        UpdateBuilder::after(self.last_op())
    }
}

/// Verify a list of live operations without timestamps (a directory's `/log`):
/// the genesis derives `did`, each operation names the one before as `prev` and is
/// signed by one of its rotation keys, and only the last may be a tombstone.
/// Returns the resulting document data (`None` if tombstoned).
pub fn verify_ops(did: &str, ops: &[SignedOp]) -> Result<Option<PlcData>, PlcError> {
    if !check::is_did_plc(did) {
        return Err(PlcError::NotDidPlc(did.to_string()));
    }
    let (genesis, rest) = ops.split_first().ok_or(PlcError::EmptyLog)?;
    let derived = genesis.genesis_did()?;
    if derived != did {
        return Err(PlcError::DidMismatch {
            did: did.to_string(),
            derived,
        });
    }
    let mut keys = genesis.op.rotation_keys();
    genesis.verify(&keys)?;
    let mut last = genesis;
    for op in rest {
        let prev_cid = last.cid()?;
        if last.is_tombstone() {
            return Err(PlcError::PrevIsTombstone(prev_cid.to_string()));
        }
        let prev = op.op.prev().ok_or(PlcError::UnexpectedGenesis)?;
        if check_prev(prev)? != prev_cid {
            return Err(PlcError::PrevNotFound(prev.to_string()));
        }
        op.verify(&keys)?;
        keys = op.op.rotation_keys();
        last = op;
    }
    Ok(PlcData::from_op(did, last))
}

/// CIDs as strings in JSON.
mod cid_string {
    use super::*;

    pub fn serialize<S: Serializer>(cid: &Cid, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(cid)
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Cid, D::Error> {
        let s = String::deserialize(d)?;
        s.parse::<Cid>().map_err(serde::de::Error::custom)
    }
}

/// `YYYY-MM-DDTHH:mm:ss.sssZ`, as PLC directories write `createdAt`.
pub(crate) mod timestamp {
    use super::*;

    pub fn format(t: &DateTime<Utc>) -> String {
        t.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string()
    }

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(t))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        DateTime::parse_from_rfc3339(&s)
            .map(|t| t.with_timezone(&Utc))
            .map_err(serde::de::Error::custom)
    }
}
