//! Requests in flight, in a slab with a free list: events and queues carry a request's slot,
//! never the request, and a finished request's slot is reused, so steady state allocates
//! nothing.

use std::ops::{Index, IndexMut};

use crate::core::engine::SimTime;

/// A request in flight.
#[derive(Clone, Copy, Debug, Default)]
pub(super) struct Request {
    pub(super) user: u32,
    pub(super) pool: u32,
    pub(super) issued: SimTime,
    /// Last admission to a replica.
    pub(super) admitted: SimTime,
    /// When its first token came out.
    pub(super) first: SimTime,
    /// Network time before the first token: the round trip and the prompt's upload.
    pub(super) ttft_extra: SimTime,
    /// Network time of the whole exchange.
    pub(super) net: SimTime,
    /// What each output token after the first waits beyond the replica's steps, ns: in a
    /// pipeline, the rest of a remote user's round trip (the client sends every token back).
    pub(super) token_extra_ns: u32,
    pub(super) prompt: u32,
    pub(super) output_tokens: u32,
    /// Drawn service time, s (when the scenario draws them).
    pub(super) service_s: f64,
    /// A verification run: uses GPUs and is paid for, but is not a user's answer.
    pub(super) shadow: bool,
}

/// The requests in flight, by slot.
#[derive(Debug, Default)]
pub(super) struct Requests {
    slots: Vec<Request>,
    free: Vec<u32>,
}

impl Requests {
    /// Stores `req` in a free slot (a new one if none is free) and returns the slot.
    #[inline]
    pub(super) fn alloc(&mut self, req: Request) -> u32 {
        match self.free.pop() {
            Some(i) => {
                self.slots[i as usize] = req;
                i
            }
            None => {
                self.slots.push(req);
                (self.slots.len() - 1) as u32
            }
        }
    }

    /// Frees `slot` for reuse.
    #[inline]
    pub(super) fn release(&mut self, slot: u32) {
        self.free.push(slot);
    }

    /// Frees every slot of `slots`.
    pub(super) fn release_all(&mut self, slots: impl IntoIterator<Item = u32>) {
        self.free.extend(slots);
    }
}

impl Index<u32> for Requests {
    type Output = Request;
    #[inline]
    fn index(&self, slot: u32) -> &Request {
        &self.slots[slot as usize]
    }
}

impl IndexMut<u32> for Requests {
    #[inline]
    fn index_mut(&mut self, slot: u32) -> &mut Request {
        &mut self.slots[slot as usize]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn freed_slots_are_reused_last_freed_first() {
        let mut r = Requests::default();
        let a = r.alloc(Request {
            prompt: 1,
            ..Request::default()
        });
        let b = r.alloc(Request {
            prompt: 2,
            ..Request::default()
        });
        assert_eq!((a, b), (0, 1));
        r.release(a);
        let c = r.alloc(Request {
            prompt: 3,
            ..Request::default()
        });
        assert_eq!(c, a);
        assert_eq!((r[c].prompt, r[b].prompt), (3, 2));
        r.release_all([b, c]);
        assert_eq!(r.alloc(Request::default()), c);
        assert_eq!(r.alloc(Request::default()), b);
        assert_eq!(r.alloc(Request::default()), 2);
    }
}
