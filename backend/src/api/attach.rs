//! Attaching a client to a container's (or an exec's) streams: the shim's
//! attach socket on one side, a hijacked HTTP connection or a WebSocket on
//! the other. Output frames go out raw for a terminal and multiplexed
//! otherwise; client bytes go in as stdin, until the detach keys
//! (ctrl-p ctrl-q by default) or the end of the process.

use crate::runtime::stdio::{frame, FRAME_CLOSE_STDIN, FRAME_RESIZE, FRAME_STDIN};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};

#[derive(Debug, Clone)]
pub struct AttachOptions {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub tty: bool,
    /// Close the process's stdin when this client's input ends.
    pub stdin_once: bool,
    pub detach_keys: Vec<u8>,
}

/// Parses Docker's `--detach-keys` (`ctrl-p,ctrl-q`, `a`, `ctrl-@`…).
pub fn parse_detach_keys(s: &str) -> Result<Vec<u8>, String> {
    if s.is_empty() {
        return Ok(vec![0x10, 0x11]);
    }
    s.split(',')
        .map(|k| {
            let k = k.trim();
            if let Some(c) = k.strip_prefix("ctrl-") {
                let b = c.as_bytes();
                if b.len() == 1 {
                    return match b[0] {
                        b'@' => Ok(0),
                        b'a'..=b'z' => Ok(b[0] - b'a' + 1),
                        b'[' | b'\\' | b']' | b'^' | b'_' => Ok(b[0] - b'@'),
                        _ => Err(format!("Unknown character: '{c}'")),
                    };
                }
            } else if k.len() == 1 {
                return Ok(k.as_bytes()[0]);
            }
            Err(format!("Unknown character: '{k}'"))
        })
        .collect()
}

/// A future that resolves when the credential a connection was opened with
/// ends (logout, revocation): the connection closes then.
pub type Ended = std::pin::Pin<Box<dyn std::future::Future<Output = ()> + Send>>;

/// Copies between `client` and the shim's socket until the process's output
/// ends, the client detaches, or `ended` resolves.
pub async fn session(
    client: impl AsyncRead + AsyncWrite + Send + 'static,
    shim: tokio::net::UnixStream,
    opts: AttachOptions,
    ended: Ended,
) {
    let (mut client_r, mut client_w) = tokio::io::split(client);
    let (mut shim_r, mut shim_w) = shim.into_split();
    let o = opts.clone();
    let output = async move {
        let mut header = [0u8; 8];
        loop {
            if shim_r.read_exact(&mut header).await.is_err() {
                break;
            }
            let len = u32::from_be_bytes([header[4], header[5], header[6], header[7]]) as usize;
            let mut data = vec![0u8; len];
            if shim_r.read_exact(&mut data).await.is_err() {
                break;
            }
            let wanted = (header[0] == 1 && o.stdout) || (header[0] == 2 && o.stderr);
            if !wanted {
                continue;
            }
            let bytes = if o.tty { data } else { frame(header[0], &data) };
            if client_w.write_all(&bytes).await.is_err() {
                break;
            }
            let _ = client_w.flush().await;
        }
        let _ = client_w.shutdown().await;
    };
    let input = async move {
        if !opts.stdin {
            std::future::pending::<()>().await;
        }
        let keys = opts.detach_keys;
        let mut matched = 0usize;
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            let n = match client_r.read(&mut buf).await {
                Ok(0) | Err(_) => {
                    if opts.stdin_once {
                        let _ = shim_w.write_all(&frame(FRAME_CLOSE_STDIN, &[])).await;
                    }
                    // Keep the output flowing after the client's input ended.
                    std::future::pending::<()>().await;
                    return;
                }
                Ok(n) => n,
            };
            let mut out = Vec::with_capacity(n);
            for &b in &buf[..n] {
                if !keys.is_empty() && b == keys[matched] {
                    matched += 1;
                    if matched == keys.len() {
                        if !out.is_empty() {
                            let _ = shim_w.write_all(&frame(FRAME_STDIN, &out)).await;
                        }
                        return; // detached
                    }
                    continue;
                }
                out.extend_from_slice(&keys[..matched]);
                matched = 0;
                out.push(b);
            }
            if !out.is_empty() && shim_w.write_all(&frame(FRAME_STDIN, &out)).await.is_err() {
                return;
            }
        }
    };
    tokio::select! {
        _ = output => {}
        _ = input => {}
        _ = ended => {}
    }
}

/// Runs a session over a WebSocket (the dashboard's terminal): binary
/// messages are input, a text message `{"resize":[rows,cols]}` resizes the
/// terminal (through the shim's socket at `socket`), other text is input;
/// output goes out as binary messages. Both directions go to `recorder`;
/// the socket closes when `ended` resolves.
pub async fn websocket_session(
    ws: axum::extract::ws::WebSocket,
    shim: tokio::net::UnixStream,
    socket: std::path::PathBuf,
    opts: AttachOptions,
    ended: Ended,
    recorder: Option<std::sync::Arc<super::recording::Recorder>>,
) {
    use super::recording::Stream;
    use axum::extract::ws::Message;
    use futures_util::{SinkExt, StreamExt};
    let (ours, theirs) = tokio::io::duplex(64 * 1024);
    let session_task = tokio::spawn(session(
        theirs,
        shim,
        opts,
        Box::pin(std::future::pending()),
    ));
    let rec_out = recorder.clone();
    let (mut ours_r, mut ours_w) = tokio::io::split(ours);
    let (mut ws_tx, mut ws_rx) = ws.split();
    let to_browser = async move {
        let mut buf = vec![0u8; 16 * 1024];
        loop {
            match ours_r.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if let Some(r) = &rec_out {
                        r.bytes(Stream::Output, &buf[..n]);
                    }
                    if ws_tx
                        .send(Message::Binary(buf[..n].to_vec().into()))
                        .await
                        .is_err()
                    {
                        break;
                    }
                }
            }
        }
        let _ = ws_tx.send(Message::Close(None)).await;
    };
    let from_browser = async move {
        while let Some(Ok(m)) = ws_rx.next().await {
            let data: Vec<u8> = match m {
                Message::Binary(b) => b.to_vec(),
                Message::Text(t) => {
                    if let Some((rows, cols)) = resize_message(t.as_str()) {
                        if let Some(r) = &recorder {
                            r.resize(cols, rows);
                        }
                        let _ = resize(&socket, rows, cols).await;
                        continue;
                    }
                    t.as_bytes().to_vec()
                }
                Message::Close(_) => break,
                _ => continue,
            };
            if let Some(r) = &recorder {
                r.bytes(Stream::Input, &data);
            }
            if ours_w.write_all(&data).await.is_err() {
                break;
            }
        }
        let _ = ours_w.shutdown().await;
        std::future::pending::<()>().await;
    };
    tokio::select! {
        _ = to_browser => {}
        _ = from_browser => {}
        _ = ended => tracing::info!("terminal closed: its session or token ended"),
    }
    session_task.abort();
}

/// `{"resize":[rows,cols]}` → (rows, cols).
pub(super) fn resize_message(t: &str) -> Option<(u16, u16)> {
    let v: serde_json::Value = serde_json::from_str(t).ok()?;
    let r = v.get("resize")?.as_array()?;
    Some((
        u16::try_from(r.first()?.as_u64()?).ok()?,
        u16::try_from(r.get(1)?.as_u64()?).ok()?,
    ))
}

/// The answer to a hijacking request (attach, exec start): `101 UPGRADED`
/// when the client asked to upgrade, with the stream's content type (raw for
/// a terminal, multiplexed otherwise).
pub fn hijack_response(wants_upgrade: bool, tty: bool) -> axum::response::Response {
    use axum::http::{header, HeaderValue, StatusCode};
    let mut res = axum::response::Response::new(axum::body::Body::empty());
    if wants_upgrade {
        *res.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
        res.headers_mut()
            .insert(header::CONNECTION, HeaderValue::from_static("Upgrade"));
        res.headers_mut()
            .insert(header::UPGRADE, HeaderValue::from_static("tcp"));
    }
    res.headers_mut().insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(stream_content_type(tty)),
    );
    res
}

/// Raw for a terminal, multiplexed frames otherwise (attach, exec, logs).
pub fn stream_content_type(tty: bool) -> &'static str {
    if tty {
        "application/vnd.docker.raw-stream"
    } else {
        "application/vnd.docker.multiplexed-stream"
    }
}

/// Sends a terminal size to a shim.
pub async fn resize(sock: &std::path::Path, rows: u16, cols: u16) -> std::io::Result<()> {
    let mut s = crate::runtime::stdio::connect(sock).await?;
    let mut data = rows.to_be_bytes().to_vec();
    data.extend_from_slice(&cols.to_be_bytes());
    s.write_all(&frame(FRAME_RESIZE, &data)).await?;
    s.shutdown().await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn detach_keys() {
        assert_eq!(parse_detach_keys("").unwrap(), vec![0x10, 0x11]);
        assert_eq!(parse_detach_keys("ctrl-a,x").unwrap(), vec![1, b'x']);
        assert!(parse_detach_keys("ctrl-1").is_err());
        assert_eq!(resize_message(r#"{"resize":[30,120]}"#), Some((30, 120)));
        assert_eq!(resize_message("ls -l"), None);
    }
}
