//! A closed standard output ends no command: `evalgate trend | head -1`,
//! `evalgate compare a b | head` and the like finish quietly, with the exit
//! code the command chose.
//!
//! Rust ignores SIGPIPE, so once the reader of a pipe has gone a write fails
//! with EPIPE and `println!` panics. Rather than route every print of every
//! command through a fallible writer, [`Relay::start`] puts a pipe of our
//! own in place of fd 1 when stdout is a pipe or a socket (a terminal or a
//! file cannot close on us), and a thread copies that pipe to the real
//! stdout; once the real one is closed it discards the rest. Every print
//! succeeds, the command runs to its end, and [`Relay::finish`] hands the
//! real stdout back and waits until everything was passed on.
//!
//! ripgrep exits 0 on a broken pipe, since its output is all it has to say;
//! evalgate's exit code also carries a verdict (checks failed, a
//! regression), which `compare … | head -1` must not turn into a success,
//! so the command's own code stands. When stderr is the same pipe as stdout
//! (`2>&1 | head`), it goes through the relay too, so the two stay in order.

use std::io::{Read, Write};

/// The relay thread and what it replaced; see the module header.
pub struct Relay {
    #[cfg(unix)]
    inner: Option<imp::Inner>,
}

impl Relay {
    /// Relay stdout if it is a pipe or a socket; otherwise leave it alone.
    /// Call before anything is printed. Failing to set up leaves stdout as
    /// it was (printing then behaves as without the relay).
    pub fn start() -> Relay {
        Relay {
            #[cfg(unix)]
            inner: imp::start().ok().flatten(),
        }
    }

    /// Flush stdout, put the real stdout (and stderr) back, and wait until
    /// the relay has passed on, or discarded, all that was printed.
    pub fn finish(self) {
        let _ = std::io::stdout().flush();
        #[cfg(unix)]
        if let Some(inner) = self.inner {
            inner.finish();
        }
    }
}

/// Copy `from` to `to` until `from` ends; after the first failed write
/// (the reader has gone), keep reading and drop what arrives, so writers
/// of `from` never see an error.
#[cfg_attr(not(unix), allow(dead_code))]
fn copy_then_discard(mut from: impl Read, mut to: impl Write) {
    let mut buf = vec![0u8; 64 * 1024];
    let mut open = true;
    loop {
        let n = match from.read(&mut buf) {
            Ok(0) => return,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(_) => return,
        };
        if open && to.write_all(&buf[..n]).is_err() {
            open = false;
        }
    }
}

#[cfg(unix)]
mod imp {
    use std::fs::File;
    use std::os::fd::{AsRawFd, BorrowedFd, OwnedFd, RawFd};

    use std::thread::JoinHandle;

    use super::copy_then_discard;

    pub struct Inner {
        /// The real stdout, kept to put back (close-on-exec meanwhile).
        real: OwnedFd,
        /// Whether fd 2 was the same pipe and is relayed too.
        stderr_too: bool,
        thread: JoinHandle<()>,
    }

    /// Device and inode of `fd` when it is a pipe or a socket.
    fn pipe_id(fd: RawFd) -> Option<(u64, u64)> {
        // SAFETY: fstat writes into the zeroed struct and reads nothing else.
        let mut st: libc::stat = unsafe { std::mem::zeroed() };
        if unsafe { libc::fstat(fd, &mut st) } != 0 {
            return None;
        }
        let kind = st.st_mode & libc::S_IFMT;
        (kind == libc::S_IFIFO || kind == libc::S_IFSOCK).then_some((st.st_dev as u64, st.st_ino))
    }

    fn dup2(from: RawFd, to: RawFd) -> std::io::Result<()> {
        // SAFETY: plain descriptor numbers; dup2 closes `to` atomically.
        if unsafe { libc::dup2(from, to) } < 0 {
            return Err(std::io::Error::last_os_error());
        }
        Ok(())
    }

    pub fn start() -> std::io::Result<Option<Inner>> {
        let (out, err) = (libc::STDOUT_FILENO, libc::STDERR_FILENO);
        let Some(id) = pipe_id(out) else {
            return Ok(None);
        };
        let stderr_too = pipe_id(err) == Some(id);
        // SAFETY: fd 1 is open (fstat just succeeded) for the whole process.
        let real = unsafe { BorrowedFd::borrow_raw(out) }.try_clone_to_owned()?;
        let (reader, writer) = std::io::pipe()?;
        dup2(writer.as_raw_fd(), out)?;
        if stderr_too && dup2(writer.as_raw_fd(), err).is_err() {
            // stdout is relayed already: go on without stderr.
            return Ok(Some(spawn(real, false, reader)?));
        }
        // Only fds 1 (and 2) hold the write end now, so the relay ends when
        // `finish` replaces them.
        drop(writer);
        Ok(Some(spawn(real, stderr_too, reader)?))
    }

    fn spawn(
        real: OwnedFd,
        stderr_too: bool,
        reader: std::io::PipeReader,
    ) -> std::io::Result<Inner> {
        let to = File::from(real.try_clone()?);
        let thread = std::thread::Builder::new()
            .name("stdout-relay".into())
            .spawn(move || copy_then_discard(reader, to))?;
        Ok(Inner {
            real,
            stderr_too,
            thread,
        })
    }

    impl Inner {
        pub fn finish(self) {
            let real = self.real.as_raw_fd();
            let put_back = dup2(real, libc::STDOUT_FILENO).is_ok()
                && (!self.stderr_too || dup2(real, libc::STDERR_FILENO).is_ok());
            // Waiting needs every write end closed; if one could not be put
            // back, the exit that follows ends the relay instead.
            if put_back {
                let _ = self.thread.join();
            }
        }
    }
}

#[cfg(test)]
mod tests;
