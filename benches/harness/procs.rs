//! Child processes and what they cost: spawn, wait with `wait4` for the
//! child's own rusage (user+sys CPU, peak RSS), read a live process's CPU from
//! `/proc/<pid>/stat`, and talk to the sim's `/stats` endpoints.

use std::net::TcpListener;
use std::path::Path;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use serde_json::Value;

/// What a finished child cost.
#[derive(Clone, Copy, Debug, Default)]
pub struct Usage {
    pub exit_code: i32,
    pub wall: Duration,
    /// User + system CPU.
    pub cpu: Duration,
    /// Peak resident set (VmHWM), KiB.
    pub max_rss_kib: u64,
}

/// Run `cmd` to completion; stdout/stderr go to `log`.
pub fn run_measured(mut cmd: Command, log: &Path) -> Usage {
    let file = std::fs::File::create(log).expect("create log file");
    let err = file.try_clone().expect("clone log handle");
    cmd.stdout(Stdio::from(file)).stderr(Stdio::from(err));
    let start = Instant::now();
    let child = cmd.spawn().expect("spawn child");
    wait(child, start)
}

/// What a child had used when a marker file appeared.
#[derive(Clone, Copy, Debug, Default)]
pub struct AtMarker {
    /// Peak RSS so far, KiB.
    pub max_rss_kib: u64,
    /// User + system CPU so far (10 ms resolution).
    pub cpu: Duration,
}

/// Like [`run_measured`], and also what the child had used before `marker`
/// appeared: for `evalgate run`, `requests.csv` is the first file written
/// after the request phase, so this is the request phase's own cost.
pub fn run_measured_until(mut cmd: Command, log: &Path, marker: &Path) -> (Usage, AtMarker) {
    use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};
    use std::sync::Arc;
    let file = std::fs::File::create(log).expect("create log file");
    let err = file.try_clone().expect("clone log handle");
    cmd.stdout(Stdio::from(file)).stderr(Stdio::from(err));
    let start = Instant::now();
    let child = cmd.spawn().expect("spawn child");
    let pid = child.id();
    let stop = Arc::new(AtomicBool::new(false));
    let (peak, cpu) = (Arc::new(AtomicU64::new(0)), Arc::new(AtomicU64::new(0)));
    let (stop2, peak2, cpu2, marker) = (
        stop.clone(),
        peak.clone(),
        cpu.clone(),
        marker.to_path_buf(),
    );
    let poller = std::thread::spawn(move || {
        while !stop2.load(Ordering::Relaxed) && !marker.exists() {
            if let Some(kib) = vm_hwm(pid) {
                peak2.fetch_max(kib, Ordering::Relaxed);
                cpu2.fetch_max(proc_cpu(pid).as_micros() as u64, Ordering::Relaxed);
            }
            std::thread::sleep(Duration::from_millis(5));
        }
    });
    let usage = wait(child, start);
    stop.store(true, Ordering::Relaxed);
    poller.join().expect("poller");
    let at = AtMarker {
        max_rss_kib: peak.load(Ordering::Relaxed),
        cpu: Duration::from_micros(cpu.load(Ordering::Relaxed)),
    };
    (usage, at)
}

/// `VmHWM` of a live process, KiB.
fn vm_hwm(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}

/// Wait for `child` with `wait4`, returning its rusage.
pub fn wait(child: Child, start: Instant) -> Usage {
    let pid = child.id() as libc::pid_t;
    let mut status = 0;
    // SAFETY: plain syscall into a zeroed, owned struct.
    let mut ru: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut ru) };
    assert_eq!(r, pid, "wait4 failed: {}", std::io::Error::last_os_error());
    // The child is reaped: never let std wait on it again.
    std::mem::forget(child);
    let tv = |t: libc::timeval| Duration::new(t.tv_sec as u64, t.tv_usec as u32 * 1000);
    Usage {
        exit_code: if libc::WIFEXITED(status) {
            libc::WEXITSTATUS(status)
        } else {
            -1
        },
        wall: start.elapsed(),
        cpu: tv(ru.ru_utime) + tv(ru.ru_stime),
        max_rss_kib: ru.ru_maxrss as u64,
    }
}

/// User + system CPU of a running process so far (10 ms resolution).
pub fn proc_cpu(pid: u32) -> Duration {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
    // Fields after the `(comm)`; utime and stime are fields 14 and 15.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let f: Vec<u64> = rest
        .split_whitespace()
        .map(|x| x.parse().unwrap_or(0))
        .collect();
    let ticks = f.get(11).copied().unwrap_or(0) + f.get(12).copied().unwrap_or(0);
    // SAFETY: sysconf has no preconditions.
    let hz = unsafe { libc::sysconf(libc::_SC_CLK_TCK) }.max(1) as u64;
    Duration::from_micros(ticks * 1_000_000 / hz)
}

/// A free loopback port.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("bind a free port")
}

/// `evalgate sim` in its own process, optionally pinned to one CPU.
pub struct Sim {
    pub child: Child,
    pub port: u16,
}

impl Sim {
    pub fn start(bin: &Path, cpu: Option<u32>, log: &Path) -> Sim {
        let port = free_port();
        let mut cmd = match cpu {
            Some(c) => {
                let mut t = Command::new("taskset");
                t.args(["-c", &c.to_string()]).arg(bin);
                t
            }
            None => Command::new(bin),
        };
        let file = std::fs::File::create(log).expect("create sim log");
        cmd.args(["sim", "--addr", &format!("127.0.0.1:{port}")])
            .stdout(Stdio::null())
            .stderr(Stdio::from(file));
        let child = cmd.spawn().expect("spawn the sim (is taskset installed?)");
        let sim = Sim { child, port };
        let until = Instant::now() + Duration::from_secs(10);
        while sim.get("/stats").is_none() {
            assert!(Instant::now() < until, "the sim did not start on {port}");
            std::thread::sleep(Duration::from_millis(20));
        }
        sim
    }

    pub fn base_url(&self) -> String {
        format!("http://127.0.0.1:{}/v1", self.port)
    }

    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    fn request(&self, method: &str, path: &str) -> Option<Value> {
        use std::io::{Read, Write};
        let mut s = std::net::TcpStream::connect(("127.0.0.1", self.port)).ok()?;
        write!(
            s,
            "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        )
        .ok()?;
        let mut buf = Vec::new();
        s.read_to_end(&mut buf).ok()?;
        let text = String::from_utf8_lossy(&buf);
        let (_, body) = text.split_once("\r\n\r\n")?;
        serde_json::from_str(body).ok()
    }

    pub fn get(&self, path: &str) -> Option<Value> {
        self.request("GET", path)
    }

    pub fn reset(&self) {
        self.request("POST", "/stats/reset")
            .expect("reset the sim's stats");
    }
}

impl Drop for Sim {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
