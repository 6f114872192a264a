//! The database handle: a pool plus the rule that write transactions run one
//! at a time in this process.
//!
//! Why a lock: SQLite allows one writer, and a deferred transaction that read
//! first can fail with "database is locked" when it later tries to write. A
//! tokio `Mutex` (held across `.await`s, hence not std's) queues writers
//! instead. On PostgreSQL it costs little, and the audit head's row lock
//! still orders writers across several server processes.

use sqlx::{Any, AnyPool, Transaction};
use std::sync::Arc;
use tokio::sync::{Mutex, OwnedMutexGuard};

/// Cheap-to-clone database handle.
#[derive(Debug, Clone)]
pub struct Store {
    pool: AnyPool,
    write_lock: Arc<Mutex<()>>,
}

/// A write transaction that holds the process-wide write lock until it is
/// committed or dropped (dropping rolls back).
pub struct WriteTx {
    tx: Transaction<'static, Any>,
    _turn: OwnedMutexGuard<()>,
}

impl Store {
    pub fn new(pool: AnyPool) -> Self {
        Self { pool, write_lock: Arc::new(Mutex::new(())) }
    }

    /// The pool, for reads.
    pub fn pool(&self) -> &AnyPool {
        &self.pool
    }

    /// Waits for this process's turn to write and begins a transaction.
    pub async fn begin_write(&self) -> Result<WriteTx, sqlx::Error> {
        let turn = Arc::clone(&self.write_lock).lock_owned().await;
        let tx = self.pool.begin().await?;
        Ok(WriteTx { tx, _turn: turn })
    }
}

impl WriteTx {
    /// The connection to run statements on.
    pub fn conn(&mut self) -> &mut sqlx::AnyConnection {
        &mut self.tx
    }

    /// Commits and releases the write lock.
    pub async fn commit(self) -> Result<(), sqlx::Error> {
        self.tx.commit().await
    }
}

/// Milliseconds since the Unix epoch, the unit of every stored time.
pub fn now_ms() -> i64 {
    let since_epoch = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default();
    i64::try_from(since_epoch.as_millis()).unwrap_or(i64::MAX)
}
