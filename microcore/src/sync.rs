//! Locks that shrug off poisoning, the one place the workspace says so.
//!
//! A panic while a lock is held (a handler bug, caught and answered with a
//! 500) poisons std's locks. The data behind every lock here is kept
//! consistent by each critical section on its own (pushes, inserts,
//! replaced values), so the next caller may go on with it: refusing would
//! turn one caught panic into every later request failing.

use std::sync::{
    LockResult, Mutex, MutexGuard, PoisonError, RwLock, RwLockReadGuard, RwLockWriteGuard,
};

/// Locks `m`, ignoring poisoning.
///
/// ```
/// use std::sync::Mutex;
/// let m = Mutex::new(1);
/// let _ = std::panic::catch_unwind(|| {
///     let _held = m.lock().unwrap();
///     panic!("poisons the lock");
/// });
/// *microcore::sync::lock(&m) += 1;
/// assert_eq!(*microcore::sync::lock(&m), 2);
/// ```
pub fn lock<T: ?Sized>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    unpoisoned(m.lock())
}

/// Read-locks `l`, ignoring poisoning.
///
/// ```
/// let l = std::sync::RwLock::new(vec![1]);
/// assert_eq!(microcore::sync::read(&l).len(), 1);
/// ```
pub fn read<T: ?Sized>(l: &RwLock<T>) -> RwLockReadGuard<'_, T> {
    unpoisoned(l.read())
}

/// Write-locks `l`, ignoring poisoning.
///
/// ```
/// let l = std::sync::RwLock::new(vec![1]);
/// microcore::sync::write(&l).push(2);
/// assert_eq!(*microcore::sync::read(&l), [1, 2]);
/// ```
pub fn write<T: ?Sized>(l: &RwLock<T>) -> RwLockWriteGuard<'_, T> {
    unpoisoned(l.write())
}

fn unpoisoned<G>(guard: LockResult<G>) -> G {
    guard.unwrap_or_else(PoisonError::into_inner)
}
