//! The writer thread of a background save: serializes the entries the walk cloned, checksums
//! and writes what it hands over, sleeping `rdb-key-save-delay` per key, then fsyncs and
//! renames the temp file into place.

use std::io::Write;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::mpsc::Receiver;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use oxidis_core::db::{Entry, EntrySaver};
use tracing::info;

use super::KEY_SAVE_DELAY;
use crate::crc64;

/// What the walk sends.
pub(super) enum Chunk {
    /// Serialized bytes, then entries to serialize (weighing `estimate` in the queue): `keys`
    /// keys in all.
    Data {
        bytes: Vec<u8>,
        entries: Vec<Entry>,
        estimate: usize,
        keys: usize,
    },
    /// Everything was sent (the EOF opcode last): add the checksum and commit the file.
    Finish,
}

/// Where and how to write.
pub(super) struct Target {
    pub(super) file: std::fs::File,
    /// Serializes the cloned entries.
    pub(super) saver: EntrySaver,
    pub(super) rx: Receiver<Chunk>,
    pub(super) queued: Arc<AtomicUsize>,
    pub(super) written: Arc<AtomicUsize>,
    pub(super) cancel: Arc<AtomicBool>,
    pub(super) outcome: Arc<Mutex<Option<Result<(), String>>>>,
    pub(super) temp: String,
    /// Where the finished file goes (BGSAVE); `None` leaves it for the owner (AOF rewrite).
    pub(super) rename_to: Option<String>,
    /// Whether the file ends with a CRC-64, and whether it is computed (`rdbchecksum`).
    pub(super) crc: Option<bool>,
    /// Whether `rdb-key-save-delay` applies (BGSAVE; see [`super::start_job`]).
    pub(super) key_delay: bool,
}

/// Starts the thread.
pub(super) fn spawn(target: Target) -> std::io::Result<std::thread::JoinHandle<()>> {
    std::thread::Builder::new()
        .name("oxidis-bgsave".to_string())
        .spawn(move || {
            let result = write(&target);
            if let Ok(mut outcome) = target.outcome.lock() {
                *outcome = Some(result);
            }
            super::writer_progressed(0, true);
        })
}

fn write(t: &Target) -> Result<(), String> {
    let mut out = std::io::BufWriter::with_capacity(1 << 16, &t.file);
    let mut crc = 0u64;
    let failed = |e: std::io::Error| format!("Write error saving DB on disk: {e}");
    loop {
        let chunk =
            t.rx.recv()
                .map_err(|_| "the save was aborted".to_string())?;
        match chunk {
            Chunk::Data {
                mut bytes,
                entries,
                estimate,
                keys,
            } => {
                let queued = bytes.len() + estimate;
                for entry in &entries {
                    (t.saver)(entry, &mut bytes);
                }
                drop(entries);
                if t.crc == Some(true) {
                    crc = crc64::update(crc, &bytes);
                }
                out.write_all(&bytes).map_err(failed)?;
                let left = t
                    .queued
                    .fetch_sub(queued, Ordering::SeqCst)
                    .saturating_sub(queued);
                super::writer_progressed(left, false);
                if t.key_delay {
                    delay(keys, &t.cancel)?;
                }
                t.written.fetch_add(keys, Ordering::Relaxed);
            }
            Chunk::Finish => break,
        }
    }
    if t.crc.is_some() {
        out.write_all(&crc.to_le_bytes()).map_err(failed)?;
    }
    out.flush().map_err(failed)?;
    drop(out);
    t.file.sync_all().map_err(failed)?;
    if t.cancel.load(Ordering::Acquire) {
        return Err("the save was aborted".to_string());
    }
    let Some(target) = &t.rename_to else {
        return Ok(());
    };
    std::fs::rename(&t.temp, target).map_err(|e| {
        format!(
            "Error moving temp DB file {} on the final destination {target}: {e}",
            t.temp
        )
    })?;
    info!("DB saved on disk");
    Ok(())
}

/// `rdb-key-save-delay` microseconds per key (a test knob that makes saves slow), in naps
/// short enough to notice an abort.
fn delay(keys: usize, cancel: &AtomicBool) -> Result<(), String> {
    let per_key = KEY_SAVE_DELAY.load(Ordering::Relaxed);
    let Ok(per_key) = u64::try_from(per_key) else {
        return Ok(());
    };
    let mut left = per_key.saturating_mul(u64::try_from(keys).unwrap_or(u64::MAX));
    while left > 0 {
        if cancel.load(Ordering::Acquire) {
            return Err("the save was aborted".to_string());
        }
        let nap = left.min(10_000);
        std::thread::sleep(Duration::from_micros(nap));
        left -= nap;
    }
    Ok(())
}
