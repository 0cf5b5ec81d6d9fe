//! Dashboard shells that outlive their browser tab. Each shell runs in a
//! session the daemon keeps: the exec's streams, a screen model (`vt100`)
//! fed with everything the shell prints, and its recording. A WebSocket is
//! only a viewer: it gets the screen as it is now, then the output as it
//! comes, and sends keys and sizes. Closing the tab, navigating away or a
//! dropped connection leaves the shell running; the browser comes back with
//! the session's id and sees the same screen.
//!
//! A session ends when its shell exits, when the credential that opened it
//! ends (logout, revoked token), or after `DETACHED_LIMIT` with no viewer.

use super::attach::{self, AttachOptions, Ended};
use super::recording::{Recorder, Stream};
use axum::extract::ws::{Message, WebSocket};
use futures_util::{SinkExt, StreamExt};
use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::{broadcast, mpsc, Notify};

/// How long a shell lives with nobody watching it.
pub const DETACHED_LIMIT: Duration = Duration::from_secs(15 * 60);
/// Lines kept above the screen (not replayed: the screen is).
const SCROLLBACK: usize = 0;

/// The screen model and the stream of new output, under one lock: a
/// joining viewer's snapshot and its first bytes meet exactly.
struct Screen {
    parser: vt100::Parser,
    /// `None` once the shell ended.
    output: Option<broadcast::Sender<bytes::Bytes>>,
    viewers: usize,
    /// When the last viewer left.
    alone_since: Instant,
}

/// One shell and what the daemon keeps of it.
pub struct Session {
    pub id: String,
    pub user: String,
    pub container_id: String,
    pub recording_id: String,
    screen: Mutex<Screen>,
    input: mpsc::Sender<Vec<u8>>,
    /// The exec's attach socket, for resizes.
    resize_socket: PathBuf,
    recorder: Arc<Recorder>,
    stop: Notify,
}

/// The live sessions, by id.
#[derive(Default)]
pub struct Terminals(Mutex<HashMap<String, Arc<Session>>>);

impl std::fmt::Debug for Terminals {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Terminals({})", self.lock().len())
    }
}

impl Terminals {
    fn lock(&self) -> std::sync::MutexGuard<'_, HashMap<String, Arc<Session>>> {
        self.0.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// `user`'s live session `id` on container `container_id`, if any.
    pub fn find(&self, id: &str, user: &str, container_id: &str) -> Option<Arc<Session>> {
        self.lock()
            .get(id)
            .filter(|s| s.user == user && s.container_id == container_id)
            .cloned()
    }

    /// How many shells are running.
    pub fn len(&self) -> usize {
        self.lock().len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Keeps a shell whose exec is attached through `shim`: its output is
    /// read from now on, whether or not anyone watches.
    #[allow(clippy::too_many_arguments)]
    pub fn start(
        self: &Arc<Self>,
        user: &str,
        container_id: &str,
        shim: tokio::net::UnixStream,
        resize_socket: PathBuf,
        size: (u16, u16),
        recorder: Arc<Recorder>,
        ended: Ended,
    ) -> Arc<Session> {
        // A client that sent no size gets the classic 24×80.
        let (rows, cols) = match size {
            (0, _) | (_, 0) => (24, 80),
            s => s,
        };
        let (input, input_rx) = mpsc::channel(64);
        let session = Arc::new(Session {
            id: crate::auth::secrets::random_hex(16),
            user: user.to_string(),
            container_id: container_id.to_string(),
            recording_id: recorder.id.clone(),
            screen: Mutex::new(Screen {
                parser: vt100::Parser::new(rows, cols, SCROLLBACK),
                output: Some(broadcast::channel(256).0),
                viewers: 0,
                alone_since: Instant::now(),
            }),
            input,
            resize_socket,
            recorder,
            stop: Notify::new(),
        });
        self.lock().insert(session.id.clone(), session.clone());
        tokio::spawn(pump(self.clone(), session.clone(), shim, input_rx, ended));
        session
    }
}

impl Session {
    fn screen(&self) -> std::sync::MutexGuard<'_, Screen> {
        self.screen.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The screen as escape sequences that draw it on an empty terminal.
    fn snapshot(s: &Screen) -> Vec<u8> {
        let mut out = b"\x1b[H\x1b[2J".to_vec();
        out.extend_from_slice(&s.parser.screen().state_formatted());
        out
    }

    async fn resize(&self, rows: u16, cols: u16) {
        self.recorder.resize(cols, rows);
        self.screen()
            .parser
            .screen_mut()
            .set_size(rows.max(1), cols.max(1));
        let _ = attach::resize(&self.resize_socket, rows, cols).await;
    }
}

/// Copies the shell's output into the screen model and to the viewers, and
/// the viewers' input to the shell, until the shell or the session ends.
async fn pump(
    all: Arc<Terminals>,
    session: Arc<Session>,
    shim: tokio::net::UnixStream,
    mut input: mpsc::Receiver<Vec<u8>>,
    ended: Ended,
) {
    let (ours, theirs) = tokio::io::duplex(64 * 1024);
    let opts = AttachOptions {
        stdin: true,
        stdout: true,
        stderr: true,
        tty: true,
        stdin_once: true,
        detach_keys: Vec::new(),
    };
    let attached = tokio::spawn(attach::session(
        theirs,
        shim,
        opts,
        Box::pin(std::future::pending()),
    ));
    let (mut from_shell, mut to_shell) = tokio::io::split(ours);
    let mut buf = vec![0u8; 16 * 1024];
    let mut ended = ended;
    let mut idle_check = tokio::time::interval(Duration::from_secs(10));
    loop {
        tokio::select! {
            r = from_shell.read(&mut buf) => {
                let n = match r { Ok(0) | Err(_) => break, Ok(n) => n };
                session.recorder.bytes(Stream::Output, &buf[..n]);
                let mut s = session.screen();
                s.parser.process(&buf[..n]);
                if let Some(tx) = &s.output {
                    let _ = tx.send(bytes::Bytes::copy_from_slice(&buf[..n]));
                }
            }
            Some(data) = input.recv() => {
                session.recorder.bytes(Stream::Input, &data);
                if to_shell.write_all(&data).await.is_err() {
                    break;
                }
            }
            _ = &mut ended => {
                tracing::info!(session = %session.id, "terminal closed: its session or token ended");
                break;
            }
            _ = session.stop.notified() => break,
            _ = idle_check.tick() => {
                let s = session.screen();
                if s.viewers == 0 && s.alone_since.elapsed() > DETACHED_LIMIT {
                    tracing::info!(session = %session.id, "terminal closed: nobody watched it for {} minutes", DETACHED_LIMIT.as_secs() / 60);
                    break;
                }
            }
        }
    }
    // The viewers see the end; the shell loses its connection.
    session.screen().output = None;
    let _ = to_shell.shutdown().await;
    attached.abort();
    all.lock().remove(&session.id);
}

/// One browser watching (and typing into) a session until it goes away,
/// the shell ends, or the viewer's own credential ends.
pub async fn view(ws: WebSocket, session: Arc<Session>, viewer_ended: Ended) {
    let (mut tx, mut rx) = ws.split();
    let (snapshot, output) = {
        let mut s = session.screen();
        s.viewers += 1;
        (
            Session::snapshot(&s),
            s.output.as_ref().map(|o| o.subscribe()),
        )
    };
    let hello = serde_json::json!({ "session": session.id }).to_string();
    let mut ok = tx.send(Message::Text(hello.into())).await.is_ok()
        && tx.send(Message::Binary(snapshot.into())).await.is_ok();
    let mut viewer_ended = viewer_ended;
    if let Some(mut output) = output.filter(|_| ok) {
        loop {
            tokio::select! {
                o = output.recv() => match o {
                    Ok(bytes) => {
                        if tx.send(Message::Binary(bytes)).await.is_err() {
                            ok = false;
                            break;
                        }
                    }
                    // Too far behind: the screen as it is now instead.
                    Err(broadcast::error::RecvError::Lagged(_)) => {
                        let snap = Session::snapshot(&session.screen());
                        if tx.send(Message::Binary(snap.into())).await.is_err() {
                            ok = false;
                            break;
                        }
                    }
                    Err(broadcast::error::RecvError::Closed) => break,
                },
                m = rx.next() => {
                    let Some(Ok(m)) = m else { ok = false; break };
                    match m {
                        Message::Binary(b) => { let _ = session.input.send(b.to_vec()).await; }
                        Message::Text(t) => match attach::resize_message(t.as_str()) {
                            Some((rows, cols)) => session.resize(rows, cols).await,
                            None => { let _ = session.input.send(t.as_bytes().to_vec()).await; }
                        },
                        Message::Close(_) => { ok = false; break; }
                        _ => {}
                    }
                }
                _ = &mut viewer_ended => break,
            }
        }
    }
    {
        let mut s = session.screen();
        s.viewers -= 1;
        s.alone_since = Instant::now();
    }
    if ok {
        // The shell ended (or the viewer's credential did): say so, and close.
        let ended = session.screen().output.is_none();
        let _ = tx
            .send(Message::Text(
                serde_json::json!({ "ended": ended }).to_string().into(),
            ))
            .await;
        let _ = tx.send(Message::Close(None)).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_snapshot_redraws_the_screen() {
        let mut p = vt100::Parser::new(5, 20, 0);
        p.process(b"$ echo hi\r\nhi\r\n$ ");
        let s = Screen {
            parser: p,
            output: None,
            viewers: 0,
            alone_since: Instant::now(),
        };
        let snap = Session::snapshot(&s);
        let mut again = vt100::Parser::new(5, 20, 0);
        again.process(&snap);
        assert_eq!(again.screen().contents(), "$ echo hi\nhi\n$ ");
        assert_eq!(again.screen().cursor_position(), (2, 2));
    }
}
