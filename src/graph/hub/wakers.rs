//! The wakers of consumers waiting for a hub's next flush.

use std::task::Waker;

/// The wakers of consumers waiting for the next flush: a slot each (reused after a consumer
/// leaves, so the list never outgrows the consumers), all woken and cleared at once by a flush.
/// One lock and no allocation per wait, unlike a `Notify` future per wait.
#[derive(Debug, Default)]
pub(super) struct Wakers {
    slots: Vec<Option<Waker>>,
    free: Vec<usize>,
    /// Bumped at each wake-up: a consumer's slot is valid only in the generation it was taken.
    generation: u64,
}

impl Wakers {
    /// Registers (or refreshes) a consumer's waker; returns its slot.
    pub(super) fn register(&mut self, slot: Option<(u64, usize)>, waker: &Waker) -> (u64, usize) {
        if let Some((generation, index)) = slot.filter(|(g, _)| *g == self.generation) {
            if let Some(Some(current)) = self.slots.get_mut(index) {
                if !current.will_wake(waker) {
                    current.clone_from(waker);
                }
                return (generation, index);
            }
        }
        let index = match self.free.pop() {
            Some(index) => {
                self.slots[index] = Some(waker.clone());
                index
            }
            None => {
                self.slots.push(Some(waker.clone()));
                self.slots.len() - 1
            }
        };
        (self.generation, index)
    }

    pub(super) fn unregister(&mut self, slot: Option<(u64, usize)>) {
        if let Some((_, index)) = slot.filter(|(g, _)| *g == self.generation) {
            if let Some(entry) = self.slots.get_mut(index) {
                *entry = None;
                self.free.push(index);
            }
        }
    }

    /// Empties the list for a wake-up; the wakers are woken once the hub's lock is released.
    pub(super) fn take(&mut self) -> Vec<Option<Waker>> {
        self.generation += 1;
        self.free.clear();
        let capacity = self.slots.len();
        std::mem::replace(&mut self.slots, Vec::with_capacity(capacity))
    }
}
