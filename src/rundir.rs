//! One run per run directory: an exclusive `flock` on `<dir>/.lock`, held
//! for the whole run and naming the holder's pid, so a second run, a second
//! `--resume` or a parallel shard aimed at the same directory stops before
//! sending anything instead of interleaving its rows with the first one's;
//! and default directory names that two runs started in the same second
//! cannot share.
//!
//! The lock file stays after the run (removing it would let a third process
//! lock a fresh inode while a second still waits on the old one); the lock
//! itself dies with the process, `kill -9` included.

use std::fs::File;
use std::io::{Read, Seek, Write};
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};

/// The lock file's name inside a run directory.
pub const LOCK_FILE: &str = ".lock";

/// Why a run directory could not be taken.
#[derive(Debug, thiserror::Error)]
pub enum RunDirError {
    #[error(
        "the run directory {dir} is in use by another evalgate run (pid {pid}); \
         wait for it to finish, or choose another --out"
    )]
    Busy { dir: String, pid: String },
    #[error("cannot lock the run directory {dir}: {source}; choose a writable --out")]
    Io {
        dir: String,
        #[source]
        source: std::io::Error,
    },
}

/// The held lock; dropping it (or the process ending) releases it.
#[derive(Debug)]
pub struct RunDirLock {
    _file: File,
}

/// Take the run directory `dir` (which must exist) for this process, or say
/// which process has it.
pub fn lock(dir: &Path) -> Result<RunDirLock, RunDirError> {
    let io = |source| RunDirError::Io {
        dir: dir.display().to_string(),
        source,
    };
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .write(true)
        .create(true)
        .truncate(false)
        .open(dir.join(LOCK_FILE))
        .map_err(io)?;
    if !try_flock(&file).map_err(io)? {
        return Err(busy(dir, &mut file));
    }
    file.set_len(0).map_err(io)?;
    file.rewind().map_err(io)?;
    writeln!(file, "{}", std::process::id()).map_err(io)?;
    Ok(RunDirLock { _file: file })
}

/// The pid of the process running in `dir`, if one is (without creating
/// anything there).
pub fn holder(dir: &Path) -> Option<String> {
    let mut file = std::fs::OpenOptions::new()
        .read(true)
        .open(dir.join(LOCK_FILE))
        .ok()?;
    match try_flock(&file) {
        // Free: our lock goes away with `file`.
        Ok(true) | Err(_) => None,
        Ok(false) => match busy(dir, &mut file) {
            RunDirError::Busy { pid, .. } => Some(pid),
            RunDirError::Io { .. } => None,
        },
    }
}

/// Whether `dir` holds anything but its lock file.
pub fn has_files(dir: &Path) -> bool {
    std::fs::read_dir(dir).is_ok_and(|mut d| d.any(|e| e.is_ok_and(|e| e.file_name() != LOCK_FILE)))
}

/// Create a new directory under `parent` named by the current UTC time to
/// the millisecond and a random suffix (`20261129T201323.123Z-3f9a`), so
/// names sort by start time and two runs never share one: the directory is
/// created with `create_dir`, which fails if another process took the name.
pub fn create_unique(parent: &Path) -> std::io::Result<PathBuf> {
    std::fs::create_dir_all(parent)?;
    let mut last = None;
    for _ in 0..16 {
        let dir = parent.join(unique_name());
        match std::fs::create_dir(&dir) {
            Ok(()) => return Ok(dir),
            Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => last = Some(e),
            Err(e) => return Err(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free run directory name")))
}

/// A run directory name: UTC start time to the millisecond, then four
/// random hex digits.
pub fn unique_name() -> String {
    format!(
        "{}-{:04x}",
        chrono::Utc::now().format("%Y%m%dT%H%M%S%.3fZ"),
        rand::random::<u16>()
    )
}

/// `flock(LOCK_EX | LOCK_NB)`: `Ok(false)` when another open file holds it.
fn try_flock(file: &File) -> std::io::Result<bool> {
    // SAFETY: flock on a file descriptor we own, no pointers involved.
    if unsafe { libc::flock(file.as_raw_fd(), libc::LOCK_EX | libc::LOCK_NB) } == 0 {
        return Ok(true);
    }
    let err = std::io::Error::last_os_error();
    if err.raw_os_error() == Some(libc::EWOULDBLOCK) {
        Ok(false)
    } else {
        Err(err)
    }
}

/// The error for a directory another process holds, with the pid it wrote.
fn busy(dir: &Path, file: &mut File) -> RunDirError {
    let mut text = String::new();
    // A pid is a few bytes; the holder may be between truncate and write.
    let _ = file.take(32).read_to_string(&mut text);
    let pid = text.trim();
    RunDirError::Busy {
        dir: dir.display().to_string(),
        pid: if pid.is_empty() {
            "unknown".into()
        } else {
            pid.into()
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_second_lock_names_the_first_holder() {
        let tmp = tempfile::tempdir().unwrap();
        let held = lock(tmp.path()).unwrap();
        // flock locks belong to the open file, so a second open in this
        // process conflicts just as another process would.
        let err = lock(tmp.path()).unwrap_err();
        let me = std::process::id().to_string();
        assert!(
            matches!(&err, RunDirError::Busy { pid, .. } if *pid == me),
            "{err}"
        );
        assert_eq!(holder(tmp.path()), Some(me));
        drop(held);
        assert_eq!(holder(tmp.path()), None);
        lock(tmp.path()).expect("free again once released");
        assert!(!has_files(tmp.path()), "the lock file does not count");
    }

    #[test]
    fn unique_names_sort_by_time_and_differ() {
        let tmp = tempfile::tempdir().unwrap();
        let a = create_unique(tmp.path()).unwrap();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = create_unique(tmp.path()).unwrap();
        assert!(a.file_name() < b.file_name(), "{a:?} {b:?}");
        let many: std::collections::HashSet<_> = (0..200)
            .map(|_| create_unique(tmp.path()).unwrap())
            .collect();
        assert_eq!(many.len(), 200);
    }
}
