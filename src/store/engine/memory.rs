//! An engine in memory: each column family an ordered map, a batch applied under one lock, a
//! snapshot a copy-on-write view. Nothing is durable (`sync` is accepted and means nothing).

use super::{Engine, EngineError, Entry, ErrorKind, Op, Read, Scan};
use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;
use std::path::Path;
use std::sync::{Arc, RwLock};

type Family = Arc<BTreeMap<Vec<u8>, Vec<u8>>>;

/// Column families in memory.
#[derive(Clone, Default)]
struct Families(HashMap<&'static str, Family>);

impl Families {
    fn family(&self, cf: &'static str) -> Result<&Family, EngineError> {
        self.0.get(cf).ok_or_else(|| EngineError::new(ErrorKind::Other, format!("no column family {cf}")))
    }

    fn get(&self, cf: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>, EngineError> {
        Ok(self.family(cf)?.get(key).cloned())
    }

    fn scan(&self, cf: &'static str, from: &[u8], until: Option<&[u8]>) -> Scan<'static> {
        let family = match self.family(cf) {
            Ok(f) => f.clone(),
            Err(e) => return Box::new(std::iter::once(Err(e))),
        };
        let upper = match until {
            Some(u) => Bound::Excluded(u.to_vec()),
            None => Bound::Unbounded,
        };
        if until.is_some_and(|u| u <= from) {
            return Box::new(std::iter::empty());
        }
        let entries: Vec<Entry> = family
            .range::<Vec<u8>, _>((Bound::Included(from.to_vec()), upper))
            .map(|(k, v)| (k.clone().into_boxed_slice(), v.clone().into_boxed_slice()))
            .collect();
        Box::new(entries.into_iter().map(Ok))
    }
}

/// The in-memory engine.
pub struct MemoryEngine {
    families: RwLock<Families>,
}

impl MemoryEngine {
    /// An empty engine with column families `cfs`.
    pub fn new(cfs: &[&'static str]) -> Self {
        let families = cfs.iter().map(|cf| (*cf, Family::default())).collect();
        MemoryEngine { families: RwLock::new(Families(families)) }
    }

    fn read(&self) -> std::sync::RwLockReadGuard<'_, Families> {
        self.families.read().unwrap_or_else(|p| p.into_inner())
    }
}

impl Read for MemoryEngine {
    fn get(&self, cf: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>, EngineError> {
        self.read().get(cf, key)
    }

    fn scan<'a>(&'a self, cf: &'static str, from: &[u8], until: Option<&[u8]>) -> Scan<'a> {
        self.read().scan(cf, from, until)
    }
}

impl Read for Families {
    fn get(&self, cf: &'static str, key: &[u8]) -> Result<Option<Vec<u8>>, EngineError> {
        Families::get(self, cf, key)
    }

    fn scan<'a>(&'a self, cf: &'static str, from: &[u8], until: Option<&[u8]>) -> Scan<'a> {
        Families::scan(self, cf, from, until)
    }
}

impl Engine for MemoryEngine {
    fn write(&self, ops: Vec<Op>, _sync: bool) -> Result<(), EngineError> {
        let mut families = self.families.write().unwrap_or_else(|p| p.into_inner());
        // Every family named must exist before anything is applied: all or nothing.
        for op in &ops {
            let (Op::Put { cf, .. } | Op::Delete { cf, .. }) = op;
            families.family(cf)?;
        }
        for op in ops {
            match op {
                Op::Put { cf, key, value } => {
                    Arc::make_mut(families.0.get_mut(cf).expect("checked")).insert(key, value);
                }
                Op::Delete { cf, key } => {
                    Arc::make_mut(families.0.get_mut(cf).expect("checked")).remove(&key);
                }
            }
        }
        Ok(())
    }

    fn snapshot(&self) -> Result<Box<dyn Read + '_>, EngineError> {
        Ok(Box::new(self.read().clone()))
    }

    fn flush(&self) -> Result<(), EngineError> {
        Ok(())
    }

    fn backup(&self, _to: &Path) -> Result<(), EngineError> {
        Err(EngineError::new(ErrorKind::Other, "an engine in memory has no files to back up"))
    }
}
