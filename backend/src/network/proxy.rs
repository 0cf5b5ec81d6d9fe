//! Published ports: the daemon listens on the host address and port and
//! copies each TCP connection (or UDP exchange) to the container's address.
//! Listeners are bound before the container starts, so a taken port fails
//! the start with Docker's message; they are served while it runs.

use std::collections::HashMap;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::task::JoinHandle;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Proto {
    Tcp,
    Udp,
}

impl Proto {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "" | "tcp" => Some(Proto::Tcp),
            "udp" => Some(Proto::Udp),
            _ => None,
        }
    }
    pub fn as_str(self) -> &'static str {
        match self {
            Proto::Tcp => "tcp",
            Proto::Udp => "udp",
        }
    }
}

/// A port asked for: host address and port (0 = any free one), container port.
#[derive(Debug, Clone)]
pub struct PortRequest {
    pub host_ip: IpAddr,
    pub host_port: u16,
    pub container_port: u16,
    pub proto: Proto,
}

/// A bound, not yet served, listener.
#[derive(Debug)]
pub enum Bound {
    Tcp(std::net::TcpListener, u16),
    Udp(std::net::UdpSocket, u16),
}

impl Bound {
    /// The host port it listens on (the one chosen when 0 was asked).
    pub fn host_port(&self) -> u16 {
        match self {
            Bound::Tcp(l, _) => l.local_addr().map(|a| a.port()).unwrap_or(0),
            Bound::Udp(s, _) => s.local_addr().map(|a| a.port()).unwrap_or(0),
        }
    }
}

/// Binds every requested port, or none (the first failure is returned).
pub fn bind(requests: &[PortRequest]) -> Result<Vec<Bound>, String> {
    let mut out = Vec::new();
    for r in requests {
        let addr = SocketAddr::new(r.host_ip, r.host_port);
        let taken = |e: std::io::Error| {
            if e.kind() == std::io::ErrorKind::AddrInUse {
                format!("Bind for {addr} failed: port is already allocated")
            } else {
                format!("bind {addr}/{}: {e}", r.proto.as_str())
            }
        };
        let b = match r.proto {
            Proto::Tcp => {
                let l = std::net::TcpListener::bind(addr).map_err(taken)?;
                l.set_nonblocking(true).map_err(|e| e.to_string())?;
                Bound::Tcp(l, r.container_port)
            }
            Proto::Udp => {
                let s = std::net::UdpSocket::bind(addr).map_err(taken)?;
                s.set_nonblocking(true).map_err(|e| e.to_string())?;
                Bound::Udp(s, r.container_port)
            }
        };
        out.push(b);
    }
    Ok(out)
}

/// The running proxies of each container.
#[derive(Debug, Default)]
pub struct Proxies {
    tasks: Mutex<HashMap<String, Vec<JoinHandle<()>>>>,
}

impl Proxies {
    /// Serves `bound` listeners for container `id` at `target`.
    pub fn serve(&self, id: &str, target: Ipv4Addr, bound: Vec<Bound>) {
        let mut handles = Vec::new();
        for b in bound {
            let h = match b {
                Bound::Tcp(l, port) => match tokio::net::TcpListener::from_std(l) {
                    Ok(l) => tokio::spawn(serve_tcp(l, SocketAddr::new(target.into(), port))),
                    Err(e) => {
                        tracing::warn!(error = %e, "published port lost");
                        continue;
                    }
                },
                Bound::Udp(s, port) => match tokio::net::UdpSocket::from_std(s) {
                    Ok(s) => {
                        tokio::spawn(serve_udp(Arc::new(s), SocketAddr::new(target.into(), port)))
                    }
                    Err(e) => {
                        tracing::warn!(error = %e, "published port lost");
                        continue;
                    }
                },
            };
            handles.push(h);
        }
        self.tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(id.to_string())
            .or_default()
            .extend(handles);
    }

    /// Closes container `id`'s listeners.
    pub fn stop(&self, id: &str) {
        if let Some(hs) = self
            .tasks
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(id)
        {
            for h in hs {
                h.abort();
            }
        }
    }
}

async fn serve_tcp(l: tokio::net::TcpListener, target: SocketAddr) {
    loop {
        let Ok((mut client, _)) = l.accept().await else {
            tokio::time::sleep(Duration::from_millis(50)).await;
            continue;
        };
        tokio::spawn(async move {
            match tokio::net::TcpStream::connect(target).await {
                Ok(mut upstream) => {
                    let _ = tokio::io::copy_bidirectional(&mut client, &mut upstream).await;
                }
                Err(e) => {
                    tracing::debug!(%target, error = %e, "published port: container not answering")
                }
            }
        });
    }
}

/// Relays datagrams: one upstream socket per client, dropped after a minute idle.
async fn serve_udp(s: Arc<tokio::net::UdpSocket>, target: SocketAddr) {
    let flows: Arc<Mutex<HashMap<SocketAddr, Arc<tokio::net::UdpSocket>>>> = Default::default();
    let mut buf = vec![0u8; 65536];
    loop {
        let Ok((n, client)) = s.recv_from(&mut buf).await else {
            continue;
        };
        let existing = flows
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(&client)
            .cloned();
        let upstream = match existing {
            Some(u) => u,
            None => {
                let Ok(u) = tokio::net::UdpSocket::bind("0.0.0.0:0").await else {
                    continue;
                };
                if u.connect(target).await.is_err() {
                    continue;
                }
                let u = Arc::new(u);
                flows
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .insert(client, u.clone());
                let (s2, u2, flows2) = (s.clone(), u.clone(), flows.clone());
                tokio::spawn(async move {
                    let mut rb = vec![0u8; 65536];
                    while let Ok(Ok(m)) =
                        tokio::time::timeout(Duration::from_secs(60), u2.recv(&mut rb)).await
                    {
                        let _ = s2.send_to(&rb[..m], client).await;
                    }
                    flows2
                        .lock()
                        .unwrap_or_else(|p| p.into_inner())
                        .remove(&client);
                });
                u
            }
        };
        let _ = upstream.send(&buf[..n]).await;
    }
}
