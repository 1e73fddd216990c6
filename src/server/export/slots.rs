//! How many exports run at once: each holds a blocking thread while it writes, so a learner gets
//! at most `PER_LEARNER` at a time, and the process at most `IN_ALL`.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use uuid::Uuid;

use crate::error::AppError;

const PER_LEARNER: u32 = 2;
const IN_ALL: u32 = 16;

#[derive(Clone, Default)]
pub struct Exports(Arc<Mutex<HashMap<Uuid, u32>>>);

/// One running export; its place is given back when it is dropped (the writer finished, failed
/// or gave up on a stalled download).
pub struct Slot {
    exports: Exports,
    user: Uuid,
}

impl Exports {
    pub fn start(&self, user: Uuid) -> Result<Slot, AppError> {
        let mut running = self.lock();
        let total: u32 = running.values().sum();
        let mine = running.get(&user).copied().unwrap_or(0);
        if mine >= PER_LEARNER || total >= IN_ALL {
            return Err(AppError::TooManyRequests {
                retry_after_secs: 30,
            });
        }
        running.insert(user, mine + 1);
        Ok(Slot {
            exports: self.clone(),
            user,
        })
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<Uuid, u32>> {
        self.0
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut running = self.exports.lock();
        if let Some(count) = running.get_mut(&self.user) {
            *count -= 1;
            if *count == 0 {
                running.remove(&self.user);
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_learner_runs_two_exports_at_a_time() {
        let exports = Exports::default();
        let (ana, ben) = (Uuid::new_v4(), Uuid::new_v4());
        let first = exports.start(ana).unwrap();
        let _second = exports.start(ana).unwrap();
        assert!(exports.start(ana).is_err());
        let _other = exports.start(ben).unwrap();
        drop(first);
        assert!(exports.start(ana).is_ok());
    }
}
