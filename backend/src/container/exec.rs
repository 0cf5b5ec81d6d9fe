//! `exec`: processes started in a running container. Records live in memory
//! for the daemon's lifetime (as Docker's do); each exec runs under its own
//! shim (`berth shim-exec`), which joins the container's namespaces and
//! cgroup, owns the streams and writes the exit code.

use super::supervisor::Supervisor;
use super::ContainerError;
use crate::runtime::exec::{exit_path, ExecConfig};
use crate::runtime::init::Identity;
use crate::runtime::{caps, user};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::io::BufRead;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// ExecCreate's body.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(rename_all = "PascalCase", default)]
pub struct ExecRequest {
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    pub tty: bool,
    pub env: Option<Vec<String>>,
    pub cmd: Vec<String>,
    pub user: String,
    pub working_dir: String,
    pub privileged: bool,
    pub detach_keys: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct ExecRecord {
    pub id: String,
    pub container_id: String,
    pub request: ExecRecordRequest,
    pub running: bool,
    pub started: bool,
    pub exit_code: Option<i32>,
    pub pid: i32,
}

/// The parts of the request inspect shows.
#[derive(Debug, Clone, Serialize)]
pub struct ExecRecordRequest {
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub user: String,
    pub working_dir: String,
    pub tty: bool,
    pub attach_stdin: bool,
    pub attach_stdout: bool,
    pub attach_stderr: bool,
    pub detach_keys: String,
}

#[derive(Debug, Default)]
pub struct Execs {
    map: Mutex<HashMap<String, ExecRecord>>,
}

impl Execs {
    pub fn get(&self, id: &str) -> Result<ExecRecord, ContainerError> {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(id)
            .cloned()
            .ok_or_else(|| ContainerError::NotFound(format!("exec instance {id}")))
    }

    fn update(&self, id: &str, f: impl FnOnce(&mut ExecRecord)) {
        if let Some(r) = self
            .map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get_mut(id)
        {
            f(r);
        }
    }

    /// Takes in an exit the shim recorded (`.exit` beside the socket).
    pub fn refresh(&self, id: &str, containers_dir: &std::path::Path) {
        let Ok(r) = self.get(id) else { return };
        if !r.running {
            return;
        }
        let path = exit_path(&socket_of(containers_dir.join(&r.container_id), id));
        // The shim replaces the file whole; an unreadable one is not there yet.
        if let Some(code) = std::fs::read_to_string(path)
            .ok()
            .and_then(|t| t.trim().parse::<i32>().ok())
        {
            self.update(id, |r| {
                r.running = false;
                r.exit_code = Some(code);
            });
        }
    }

    /// Ids of the container's execs.
    pub fn of_container(&self, container_id: &str) -> Vec<String> {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .values()
            .filter(|r| r.container_id == container_id)
            .map(|r| r.id.clone())
            .collect()
    }

    pub fn forget_container(&self, container_id: &str) {
        self.map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .retain(|_, r| r.container_id != container_id);
    }
}

impl Supervisor {
    /// `POST /containers/{id}/exec`.
    pub fn exec_create(
        &self,
        name_or_id: &str,
        req: ExecRequest,
    ) -> Result<ExecRecord, ContainerError> {
        let c = self.store.get(name_or_id)?;
        if !c.is_running() {
            return Err(ContainerError::Conflict(format!(
                "container {} is not running",
                c.id
            )));
        }
        if req.cmd.is_empty() {
            return Err(ContainerError::Invalid("No exec command specified".into()));
        }
        if req.privileged {
            return Err(ContainerError::Invalid(
                "privileged exec is not supported by Berth yet".into(),
            ));
        }
        let rec = ExecRecord {
            id: super::create::random_hex(),
            container_id: c.id.clone(),
            request: ExecRecordRequest {
                cmd: req.cmd,
                env: req.env.unwrap_or_default(),
                user: req.user,
                working_dir: req.working_dir,
                tty: req.tty,
                attach_stdin: req.attach_stdin,
                attach_stdout: req.attach_stdout,
                attach_stderr: req.attach_stderr,
                detach_keys: req.detach_keys,
            },
            running: false,
            started: false,
            exit_code: None,
            pid: 0,
        };
        self.execs
            .map
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .insert(rec.id.clone(), rec.clone());
        Ok(rec)
    }

    /// Starts an exec; with `attached`, returns the connection to its streams
    /// (made before the process runs, so nothing is missed).
    pub async fn exec_start(
        self: &Arc<Self>,
        exec_id: &str,
        attached: bool,
    ) -> Result<Option<tokio::net::UnixStream>, ContainerError> {
        let rec = self.execs.get(exec_id)?;
        if rec.started {
            return Err(ContainerError::Conflict(format!(
                "Error: Exec command {exec_id} has already run"
            )));
        }
        let c = self.store.get(&rec.container_id)?;
        if !c.is_running() {
            return Err(ContainerError::Conflict(format!(
                "container {} is not running",
                c.id
            )));
        }
        self.execs.update(exec_id, |r| r.started = true);
        let dir = self.store.dir(&c.id).join("execs");
        std::fs::create_dir_all(&dir)
            .map_err(|e| ContainerError::io("create exec directory", e))?;
        let (passwd, group) = self.etc_files_of(&c);
        let who = if rec.request.user.is_empty() {
            &c.config.user
        } else {
            &rec.request.user
        };
        let resolved =
            user::resolve(who, &passwd, &group).map_err(|e| ContainerError::StartFailed(126, e))?;
        let mut env = c.config.env.clone().unwrap_or_default();
        if !env.iter().any(|e| e.starts_with("HOSTNAME=")) {
            env.push(format!("HOSTNAME={}", c.config.hostname));
        }
        env = super::create::merge_env(&env, &rec.request.env);
        if !env.iter().any(|e| e.starts_with("HOME=")) {
            let home = user::home_of(&passwd, resolved.uid);
            env.push(format!("HOME={home}"));
        }
        let capabilities = caps::resolve(
            c.host_config.cap_add.as_deref().unwrap_or_default(),
            c.host_config.cap_drop.as_deref().unwrap_or_default(),
        )
        .map_err(ContainerError::Invalid)?;
        let socket = dir.join(format!("{exec_id}.sock"));
        let cwd = if rec.request.working_dir.is_empty() {
            c.config.working_dir.clone()
        } else {
            rec.request.working_dir.clone()
        };
        let cfg = ExecConfig {
            container_id: c.id.clone(),
            init_pid: c.state.pid,
            identity: Identity {
                uid: resolved.uid,
                gid: resolved.gid,
                additional_gids: resolved.additional_gids,
                capabilities,
                no_new_privileges: true,
                seccomp: c.host_config.seccomp(),
                args: rec.request.cmd.clone(),
                env,
            },
            cwd,
            tty: rec.request.tty,
            open_stdin: rec.request.attach_stdin,
            wait_attach: attached,
            socket: socket.clone(),
        };
        let cfg_path = dir.join(format!("{exec_id}.json"));
        let bytes = serde_json::to_vec(&cfg).map_err(|e| ContainerError::Io(e.to_string()))?;
        std::fs::write(&cfg_path, bytes).map_err(|e| ContainerError::io("write exec config", e))?;
        let exe = self.exe().to_path_buf();
        let started = tokio::task::spawn_blocking(move || {
            spawn_exec_shim(&exe, &cfg_path, &socket, attached)
        })
        .await
        .map_err(|e| ContainerError::Io(e.to_string()))??;
        let (line, sock) = started;
        if let Some(rest) = line.strip_prefix("err ") {
            let (code, msg) = crate::runtime::shim::split_failure(rest, 126);
            self.execs.update(exec_id, |r| {
                r.exit_code = Some(code);
                r.running = false;
            });
            return Err(ContainerError::StartFailed(code, msg));
        }
        let pid: i32 = line
            .strip_prefix("ok ")
            .and_then(|p| p.trim().parse().ok())
            .unwrap_or(0);
        self.execs.update(exec_id, |r| {
            r.running = true;
            r.pid = pid;
        });
        self.emit_exec("exec_start", &c, &rec.request.cmd.join(" "));
        let this = self.clone();
        let id = exec_id.to_string();
        let exit_file = exit_path(&dir.join(format!("{exec_id}.sock")));
        tokio::spawn(async move {
            loop {
                if let Ok(text) = std::fs::read_to_string(&exit_file) {
                    let code = text.trim().parse().unwrap_or(255);
                    this.execs.update(&id, |r| {
                        r.running = false;
                        r.exit_code = Some(code);
                    });
                    this.exec_changed();
                    return;
                }
                if this
                    .store
                    .get(&c.id)
                    .map(|c| !c.is_running())
                    .unwrap_or(true)
                {
                    // The container ended; its execs ended with it.
                    this.execs.update(&id, |r| {
                        if r.running {
                            r.running = false;
                            r.exit_code.get_or_insert(137);
                        }
                    });
                    this.exec_changed();
                    return;
                }
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        });
        match sock {
            Some(s) => {
                s.set_nonblocking(true)
                    .map_err(|e| ContainerError::Io(e.to_string()))?;
                tokio::net::UnixStream::from_std(s)
                    .map(Some)
                    .map_err(|e| ContainerError::Io(e.to_string()))
            }
            None => Ok(None),
        }
    }
}

/// Runs the exec shim; with `attached`, connects to its socket before it
/// reports (it waits for that first client). Returns its status line.
fn spawn_exec_shim(
    exe: &std::path::Path,
    cfg: &std::path::Path,
    socket: &std::path::Path,
    attached: bool,
) -> Result<(String, Option<std::os::unix::net::UnixStream>), ContainerError> {
    let mut child = std::process::Command::new(exe)
        .arg("shim-exec")
        .arg(cfg)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .spawn()
        .map_err(|e| ContainerError::io("start the exec shim", e))?;
    let stdout = child.stdout.take().expect("piped");
    let mut sock = None;
    if attached {
        let deadline = std::time::Instant::now() + Duration::from_secs(10);
        while std::time::Instant::now() < deadline {
            if let Ok(s) = crate::runtime::stdio::connect_blocking(socket) {
                sock = Some(s);
                break;
            }
            std::thread::sleep(Duration::from_millis(2));
        }
    }
    let mut line = String::new();
    let read = std::io::BufReader::new(stdout).read_line(&mut line);
    let _ = child.wait();
    read.map_err(|e| ContainerError::io("read the exec shim's status", e))?;
    Ok((line.trim_end().to_string(), sock))
}

pub fn socket_of(dir: PathBuf, exec_id: &str) -> PathBuf {
    dir.join("execs").join(format!("{exec_id}.sock"))
}
