//! Which UDP worker owns each WebRTC session, by the session's ICE ufrag: shared by the workers
//! of one address (one per `SO_REUSEPORT` socket).
//!
//! The kernel hashes a peer's 5-tuple to one of the sockets, so the worker that receives a peer's
//! STUN binding is not necessarily the one its session was added to. That worker looks the ufrag
//! up here and asks the owner to hand the session over; the owner moves it and records the new
//! owner. A client whose address changes may land on another socket the same way. Touched only
//! for bindings from unknown addresses, hand-overs and session ends, never per media packet.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard};

use super::rtc_udp::SessionId;

/// A worker's index among the sockets of its address.
pub type WorkerIndex = usize;

#[derive(Debug, Default)]
pub struct Directory(Mutex<HashMap<String, (SessionId, WorkerIndex)>>);

impl Directory {
    fn lock(&self) -> MutexGuard<'_, HashMap<String, (SessionId, WorkerIndex)>> {
        self.0.lock().unwrap_or_else(|poisoned| poisoned.into_inner())
    }

    pub fn insert(&self, ufrag: &str, session: SessionId, worker: WorkerIndex) {
        self.lock().insert(ufrag.to_owned(), (session, worker));
    }

    /// The session of `ufrag` and the worker that owns it.
    pub fn get(&self, ufrag: &str) -> Option<(SessionId, WorkerIndex)> {
        self.lock().get(ufrag).copied()
    }

    /// Records that `ufrag`'s session moves to `worker`; `false` when the session has ended.
    pub fn move_to(&self, ufrag: &str, worker: WorkerIndex) -> bool {
        match self.lock().get_mut(ufrag) {
            Some(entry) => {
                entry.1 = worker;
                true
            }
            None => false,
        }
    }

    /// Whether `ufrag`'s session is (still) recorded on `worker`.
    pub fn owned_by(&self, ufrag: &str, worker: WorkerIndex) -> bool {
        self.lock().get(ufrag).is_some_and(|(_, w)| *w == worker)
    }

    pub fn remove(&self, ufrag: &str) {
        self.lock().remove(ufrag);
    }

    pub fn remove_session(&self, session: SessionId) {
        self.lock().retain(|_, (id, _)| *id != session);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_session_moves_and_ends() {
        let directory = Directory::default();
        directory.insert("abcd", 7, 0);
        assert_eq!(directory.get("abcd"), Some((7, 0)));
        assert!(directory.move_to("abcd", 1));
        assert!(directory.owned_by("abcd", 1) && !directory.owned_by("abcd", 0));
        directory.remove_session(7);
        assert_eq!(directory.get("abcd"), None);
        assert!(!directory.move_to("abcd", 0));
    }
}
