//! The DNS server of user-defined networks: one UDP socket on each network's
//! gateway address, port 53. It answers A queries for the names of the
//! containers that share a network with the asker (container names, short
//! ids, network aliases), from a resolver the caller supplies. Any other
//! dotted name is relayed to the host's own nameservers; a single-label name
//! nobody has is answered NXDOMAIN at once (Docker relays those too, which
//! only adds a round trip and leaks the name upstream).

use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::net::UdpSocket;

/// `(asker's address, queried name without the trailing dot)` → the
/// addresses of that name, or `None` when it is no container's.
pub type Resolver = Arc<dyn Fn(Ipv4Addr, &str) -> Option<Vec<Ipv4Addr>> + Send + Sync>;

const TYPE_A: u16 = 1;
const TYPE_ANY: u16 = 255;
const CLASS_IN: u16 = 1;
const RCODE_FORMERR: u8 = 1;
const RCODE_SERVFAIL: u8 = 2;
const RCODE_NXDOMAIN: u8 = 3;
const RCODE_NOTIMP: u8 = 4;
/// Seconds a client may keep an answer (Docker's embedded server says 600;
/// containers come and go, so Berth says less).
const TTL: u32 = 60;

/// A query's header and first question.
#[derive(Debug, Clone, PartialEq)]
pub struct Query {
    pub id: u16,
    /// Opcode and RD bits as sent.
    flags: u16,
    pub name: String,
    pub qtype: u16,
    pub qclass: u16,
    /// The question section as sent (echoed in the answer).
    question: Vec<u8>,
}

/// Parses a standard query with one question; `None` for anything else.
pub fn parse_query(buf: &[u8]) -> Option<Query> {
    if buf.len() < 12 {
        return None;
    }
    let id = u16::from_be_bytes([buf[0], buf[1]]);
    let flags = u16::from_be_bytes([buf[2], buf[3]]);
    let qdcount = u16::from_be_bytes([buf[4], buf[5]]);
    if flags & 0x8000 != 0 || qdcount != 1 {
        return None;
    }
    let mut pos = 12;
    let mut labels = Vec::new();
    loop {
        let len = *buf.get(pos)? as usize;
        pos += 1;
        if len == 0 {
            break;
        }
        // No compression in a question; labels are at most 63 bytes.
        if len > 63 {
            return None;
        }
        let label = buf.get(pos..pos + len)?;
        labels.push(String::from_utf8_lossy(label).to_ascii_lowercase());
        pos += len;
        if pos > 12 + 255 {
            return None;
        }
    }
    let fixed = buf.get(pos..pos + 4)?;
    let qtype = u16::from_be_bytes([fixed[0], fixed[1]]);
    let qclass = u16::from_be_bytes([fixed[2], fixed[3]]);
    Some(Query {
        id,
        flags,
        name: labels.join("."),
        qtype,
        qclass,
        question: buf[12..pos + 4].to_vec(),
    })
}

fn header(q: &Query, rcode: u8, answers: u16) -> Vec<u8> {
    // QR, the query's opcode and RD, AA and RA.
    let flags = 0x8000 | (q.flags & 0x7900) | 0x0400 | 0x0080 | u16::from(rcode);
    let mut out = Vec::with_capacity(64);
    out.extend_from_slice(&q.id.to_be_bytes());
    out.extend_from_slice(&flags.to_be_bytes());
    out.extend_from_slice(&1u16.to_be_bytes());
    out.extend_from_slice(&answers.to_be_bytes());
    out.extend_from_slice(&[0, 0, 0, 0]);
    out.extend_from_slice(&q.question);
    out
}

/// An answer with `ips` as A records (none for other query types: the name
/// exists, it has no such record).
pub fn answer(q: &Query, ips: &[Ipv4Addr]) -> Vec<u8> {
    let wanted = q.qclass == CLASS_IN && (q.qtype == TYPE_A || q.qtype == TYPE_ANY);
    let ips = if wanted { ips } else { &[] };
    let mut out = header(q, 0, ips.len() as u16);
    for ip in ips {
        out.extend_from_slice(&[0xc0, 12]); // the name in the question
        out.extend_from_slice(&TYPE_A.to_be_bytes());
        out.extend_from_slice(&CLASS_IN.to_be_bytes());
        out.extend_from_slice(&TTL.to_be_bytes());
        out.extend_from_slice(&4u16.to_be_bytes());
        out.extend_from_slice(&ip.octets());
    }
    out
}

/// An answer carrying only an error code.
pub fn error(q: &Query, rcode: u8) -> Vec<u8> {
    header(q, rcode, 0)
}

/// The host's nameservers, from its /etc/resolv.conf.
pub fn host_nameservers() -> Vec<SocketAddr> {
    std::fs::read_to_string("/etc/resolv.conf")
        .unwrap_or_default()
        .lines()
        .filter_map(|l| {
            let mut w = l.split_whitespace();
            (w.next()? == "nameserver").then_some(())?;
            let ip: IpAddr = w.next()?.parse().ok()?;
            Some(SocketAddr::new(ip, 53))
        })
        .collect()
}

/// Serves queries on `sock` until the task is aborted.
pub async fn serve(sock: UdpSocket, resolve: Resolver, upstream: Vec<SocketAddr>) {
    let sock = Arc::new(sock);
    let mut buf = vec![0u8; 1500];
    loop {
        let (n, from) = match sock.recv_from(&mut buf).await {
            Ok(r) => r,
            Err(e) => {
                tracing::debug!(error = %e, "dns receive");
                continue;
            }
        };
        let packet = &buf[..n];
        let Some(q) = parse_query(packet) else {
            // A header we can read gets FORMERR; noise gets nothing.
            if n >= 12 && packet[2] & 0x80 == 0 {
                let mut r = packet[..12].to_vec();
                r[2] |= 0x80;
                r[3] = (r[3] & 0xf0) | RCODE_FORMERR;
                r[4..12].fill(0);
                let _ = sock.send_to(&r, from).await;
            }
            continue;
        };
        let asker = match from.ip() {
            IpAddr::V4(a) => a,
            IpAddr::V6(_) => continue,
        };
        if (q.flags >> 11) & 0xf != 0 {
            let _ = sock.send_to(&error(&q, RCODE_NOTIMP), from).await;
            continue;
        }
        if let Some(ips) = resolve(asker, &q.name) {
            let _ = sock.send_to(&answer(&q, &ips), from).await;
            continue;
        }
        if !q.name.contains('.') || upstream.is_empty() {
            let rcode = if upstream.is_empty() && q.name.contains('.') {
                RCODE_SERVFAIL
            } else {
                RCODE_NXDOMAIN
            };
            let _ = sock.send_to(&error(&q, rcode), from).await;
            continue;
        }
        let (sock, upstream, packet) = (sock.clone(), upstream.clone(), packet.to_vec());
        tokio::spawn(async move {
            let reply = relay(&packet, &upstream)
                .await
                .unwrap_or_else(|| error(&q, RCODE_SERVFAIL));
            let _ = sock.send_to(&reply, from).await;
        });
    }
}

/// Asks each upstream in turn (2 s each) and returns the first reply.
async fn relay(packet: &[u8], upstream: &[SocketAddr]) -> Option<Vec<u8>> {
    for server in upstream {
        let bind: SocketAddr = if server.is_ipv4() {
            "0.0.0.0:0".parse().ok()?
        } else {
            "[::]:0".parse().ok()?
        };
        let Ok(s) = UdpSocket::bind(bind).await else {
            continue;
        };
        if s.connect(server).await.is_err() || s.send(packet).await.is_err() {
            continue;
        }
        let mut buf = vec![0u8; 4096];
        if let Ok(Ok(n)) = tokio::time::timeout(Duration::from_secs(2), s.recv(&mut buf)).await {
            if n >= 2 && buf[..2] == packet[..2] {
                buf.truncate(n);
                return Some(buf);
            }
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    fn query(name: &str, qtype: u16) -> Vec<u8> {
        let mut q = vec![0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, 0];
        for l in name.split('.') {
            q.push(l.len() as u8);
            q.extend_from_slice(l.as_bytes());
        }
        q.push(0);
        q.extend_from_slice(&qtype.to_be_bytes());
        q.extend_from_slice(&CLASS_IN.to_be_bytes());
        q
    }

    #[test]
    fn answers_a_queries() {
        let q = parse_query(&query("Web", TYPE_A)).expect("parses");
        assert_eq!(q.name, "web");
        let ip: Ipv4Addr = "10.89.0.2".parse().unwrap();
        let a = answer(&q, &[ip]);
        assert_eq!(&a[..2], &[0x12, 0x34]);
        assert_eq!(a[2] & 0x80, 0x80, "a response");
        assert_eq!(a[3] & 0x0f, 0, "NOERROR");
        assert_eq!(u16::from_be_bytes([a[6], a[7]]), 1, "one answer");
        assert_eq!(&a[a.len() - 4..], &ip.octets());
        // AAAA for a known name: no records, no error.
        let q6 = parse_query(&query("web", 28)).unwrap();
        let a6 = answer(&q6, &[ip]);
        assert_eq!(u16::from_be_bytes([a6[6], a6[7]]), 0);
        assert_eq!(error(&q, RCODE_NXDOMAIN)[3] & 0x0f, 3);
    }

    #[test]
    fn rejects_garbage() {
        assert!(parse_query(&[0; 5]).is_none());
        let mut two = query("a", TYPE_A);
        two[5] = 2;
        assert!(parse_query(&two).is_none());
        let mut long = query("a", TYPE_A);
        long[12] = 200;
        assert!(parse_query(&long).is_none());
        let mut truncated = query("abc", TYPE_A);
        truncated.truncate(15);
        assert!(parse_query(&truncated).is_none());
    }
}
