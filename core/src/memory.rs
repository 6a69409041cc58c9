//! How much memory the server uses: `used_memory` in INFO and what `maxmemory` is compared
//! against.
//!
//! Redis counts every byte it asks its allocator for. We do the same with
//! [`CountingAllocator`], a wrapper the binary installs as the global allocator: one relaxed
//! atomic add per allocation and per free. Where it is not installed (unit tests, embedders),
//! [`used_memory`] falls back to the resident set size.

// A `GlobalAlloc` implementation is unsafe by definition; this wrapper only forwards to the
// wrapped allocator and counts, so the safety argument is the inner allocator's.
#![allow(unsafe_code)]

use std::alloc::{GlobalAlloc, Layout};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

static ALLOCATED: AtomicUsize = AtomicUsize::new(0);
static INSTALLED: AtomicBool = AtomicBool::new(false);

/// A global allocator that counts the bytes allocated through `A`.
///
/// ```ignore
/// #[global_allocator]
/// static ALLOCATOR: CountingAllocator<std::alloc::System> = CountingAllocator(std::alloc::System);
/// ```
#[derive(Debug)]
pub struct CountingAllocator<A>(pub A);

// SAFETY: every method forwards to `A` with the caller's arguments unchanged and only adds
// bookkeeping on an atomic, so `A`'s guarantees carry over.
unsafe impl<A: GlobalAlloc> GlobalAlloc for CountingAllocator<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is (see the impl's comment).
        let ptr = unsafe { self.0.alloc(layout) };
        if !ptr.is_null() {
            ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded as is.
        let ptr = unsafe { self.0.alloc_zeroed(layout) };
        if !ptr.is_null() {
            ALLOCATED.fetch_add(layout.size(), Ordering::Relaxed);
        }
        ptr
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded as is.
        unsafe { self.0.dealloc(ptr, layout) };
        ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded as is.
        let new = unsafe { self.0.realloc(ptr, layout, new_size) };
        if !new.is_null() {
            ALLOCATED.fetch_sub(layout.size(), Ordering::Relaxed);
            ALLOCATED.fetch_add(new_size, Ordering::Relaxed);
        }
        new
    }
}

impl<A> CountingAllocator<A> {
    /// Marks the counter as live; the binary calls it first thing in `main`, so that
    /// [`used_memory`] trusts the count (allocations made before it are counted too).
    pub fn activate(&self) {
        INSTALLED.store(true, Ordering::Relaxed);
    }
}

/// Bytes currently allocated through [`CountingAllocator`], if it is installed.
pub fn allocated() -> Option<u64> {
    INSTALLED
        .load(Ordering::Relaxed)
        .then(|| ALLOCATED.load(Ordering::Relaxed) as u64)
}

/// The memory the server uses: allocated bytes, or the resident set size where nothing counts.
pub fn used_memory() -> u64 {
    allocated().unwrap_or_else(resident_bytes)
}

/// Resident set size from `/proc/self/statm` (second field, in pages of 4 KiB); 0 elsewhere.
pub fn resident_bytes() -> u64 {
    std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|s| s.split_whitespace().nth(1)?.parse::<u64>().ok())
        .map_or(0, |pages| pages * 4096)
}
