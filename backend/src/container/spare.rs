//! The spare shim the daemon keeps ready (see `runtime::seed`): started
//! ahead of time so that a container start does not wait for the shim's
//! own start or for a cgroup migration. One is kept; a start that finds
//! none starts a shim afresh. A spare ends by itself when the daemon goes
//! away (its stdin closes).

use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};
use std::process::{ChildStdin, ChildStdout, Command, Stdio};
use std::sync::Mutex;

#[derive(Debug)]
struct Spare {
    stdin: ChildStdin,
    stdout: BufReader<ChildStdout>,
}

#[derive(Debug)]
pub struct SpareShims {
    exe: PathBuf,
    ready: Mutex<Option<Spare>>,
    /// A spare is being started.
    refilling: std::sync::atomic::AtomicBool,
}

impl SpareShims {
    pub fn new(exe: PathBuf) -> Self {
        Self {
            exe,
            ready: Mutex::new(None),
            refilling: Default::default(),
        }
    }

    /// Starts a spare unless one is ready. The lock is not held while the
    /// spare starts, so a container start never waits for a refill.
    pub fn refill(&self) {
        use std::sync::atomic::Ordering;
        // Many starts at once ask for one spare, not one each.
        if self.lock().is_some() || self.refilling.swap(true, Ordering::AcqRel) {
            return;
        }
        let spawned = self.spawn();
        self.refilling.store(false, Ordering::Release);
        let Some(spare) = spawned else {
            return;
        };
        let mut ready = self.lock();
        if ready.is_none() {
            *ready = Some(spare);
        } // else another refill won; this spare ends as its stdin closes
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Option<Spare>> {
        self.ready.lock().unwrap_or_else(|p| p.into_inner())
    }

    fn spawn(&self) -> Option<Spare> {
        let spawned = Command::new(&self.exe)
            .args(["shim", "--spare"])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn();
        let mut child = match spawned {
            Ok(c) => c,
            Err(e) => {
                tracing::warn!(error = %e, "could not start a spare shim");
                return None;
            }
        };
        let (stdin, stdout) = (child.stdin.take()?, child.stdout.take()?);
        // The direct child exits once the spare has detached.
        let _ = child.wait();
        Some(Spare {
            stdin,
            stdout: BufReader::new(stdout),
        })
    }

    /// Starts the container in `dir` on the spare and returns the shim's
    /// status line; `None` when no spare was ready (or it had died before
    /// taking the container).
    pub fn start(&self, dir: &Path) -> Option<Result<String, String>> {
        let mut spare = self.lock().take()?;
        let handed = writeln!(spare.stdin, "{}", dir.display()).and_then(|_| spare.stdin.flush());
        if handed.is_err() {
            return None;
        }
        let mut line = String::new();
        Some(match spare.stdout.read_line(&mut line) {
            Ok(n) if n > 0 => Ok(line.trim_end().to_string()),
            Ok(_) => Err("the container's shim ended before reporting its start".into()),
            Err(e) => Err(format!("read the shim's status: {e}")),
        })
    }
}
