//! PROXY protocol v2: behind a TCP load balancer, the client's address comes in a binary
//! header before the SSH banner. It is read only from the configured balancers (anyone
//! else could claim any address), and from them it is required.

use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use ppp::v2;
use tokio::io::{AsyncRead, AsyncReadExt as _};

/// How long a balancer has to send its header.
pub const HEADER_TIMEOUT: Duration = Duration::from_secs(5);
/// The fixed part of a v2 header: signature, version/command, family, length.
const FIXED: usize = 16;
/// Addresses and TLVs longer than this are refused (real headers are far shorter).
const MAX_REST: usize = 1024;

/// The load balancers allowed to send a PROXY header: addresses or networks (CIDR).
#[derive(Clone, Debug, Default)]
pub struct Balancers(Vec<(IpAddr, u8)>);

impl Balancers {
    /// Parses `ssh.proxy_from`: `"10.0.0.5"`, `"10.0.0.0/24"`, `"fd00::/8"`.
    pub fn parse(entries: &[String]) -> anyhow::Result<Balancers> {
        let mut v = Vec::new();
        for e in entries {
            let (addr, bits) = match e.split_once('/') {
                Some((a, b)) => (a, Some(b)),
                None => (e.as_str(), None),
            };
            let bad = || {
                anyhow::anyhow!(
                    "ssh.proxy_from: {e:?} is not an address or network; write e.g. \"10.0.0.5\" or \"10.0.0.0/24\""
                )
            };
            let ip: IpAddr = addr.trim().parse().map_err(|_| bad())?;
            let max = if ip.is_ipv4() { 32 } else { 128 };
            let bits = match bits {
                Some(b) => b.trim().parse::<u8>().map_err(|_| bad())?,
                None => max,
            };
            if bits > max {
                return Err(bad());
            }
            v.push((ip, bits));
        }
        Ok(Balancers(v))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    /// Whether a connection from `ip` comes from a balancer.
    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        self.0.iter().any(|(net, bits)| in_network(ip, *net, *bits))
    }
}

/// An IPv4 address seen through an IPv6 socket (`::ffff:a.b.c.d`) is that IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        IpAddr::V4(_) => ip,
    }
}

fn in_network(ip: IpAddr, net: IpAddr, bits: u8) -> bool {
    let prefix = |a: &[u8], b: &[u8]| {
        let full = usize::from(bits / 8);
        let rest = bits % 8;
        a[..full] == b[..full] && (rest == 0 || (a[full] ^ b[full]) & (0xff_u8 << (8 - rest)) == 0)
    };
    match (ip, net) {
        (IpAddr::V4(a), IpAddr::V4(b)) => prefix(&a.octets(), &b.octets()),
        (IpAddr::V6(a), IpAddr::V6(b)) => prefix(&a.octets(), &b.octets()),
        _ => false,
    }
}

#[derive(Debug, thiserror::Error)]
pub enum ProxyError {
    #[error(
        "no PROXY v2 header from a configured balancer (check the balancer's proxy-protocol setting)"
    )]
    Missing,
    #[error("the PROXY v2 header is malformed: {0}")]
    Malformed(String),
    #[error("the PROXY v2 header is longer than {MAX_REST} bytes")]
    TooLong,
    #[error("reading the PROXY v2 header: {0}")]
    Io(#[from] std::io::Error),
}

/// Reads a PROXY v2 header from a balancer's connection. Returns the client's address, or
/// `None` for a `LOCAL` header (the balancer's own health check) or an address family
/// without one (then the balancer's address stands).
pub async fn read_header<S: AsyncRead + Unpin>(
    stream: &mut S,
) -> Result<Option<SocketAddr>, ProxyError> {
    let mut buf = vec![0_u8; FIXED];
    stream.read_exact(&mut buf).await?;
    if !buf.starts_with(v2::PROTOCOL_PREFIX) {
        return Err(ProxyError::Missing);
    }
    let rest = usize::from(u16::from_be_bytes([buf[14], buf[15]]));
    if rest > MAX_REST {
        return Err(ProxyError::TooLong);
    }
    buf.resize(FIXED + rest, 0);
    stream.read_exact(&mut buf[FIXED..]).await?;
    let header =
        v2::Header::try_from(buf.as_slice()).map_err(|e| ProxyError::Malformed(e.to_string()))?;
    if header.command == v2::Command::Local {
        return Ok(None);
    }
    Ok(match header.addresses {
        v2::Addresses::IPv4(a) => Some(SocketAddr::from((a.source_address, a.source_port))),
        v2::Addresses::IPv6(a) => Some(SocketAddr::from((a.source_address, a.source_port))),
        v2::Addresses::Unspecified | v2::Addresses::Unix(_) => None,
    })
}

/// A PROXY v2 header for `client` connecting to `server` (tests and benchmarks play the
/// balancer with it).
pub fn header_for(client: SocketAddr, server: SocketAddr) -> std::io::Result<Vec<u8>> {
    v2::Builder::with_addresses(
        v2::Version::Two | v2::Command::Proxy,
        v2::Protocol::Stream,
        (client, server),
    )
    .build()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn balancers_are_addresses_or_networks() {
        let b = Balancers::parse(&[
            "10.0.0.5".into(),
            "192.168.0.0/16".into(),
            "fd00::/8".into(),
        ])
        .unwrap();
        assert!(b.contains("10.0.0.5".parse().unwrap()));
        assert!(!b.contains("10.0.0.6".parse().unwrap()));
        assert!(b.contains("192.168.44.1".parse().unwrap()));
        assert!(b.contains("::ffff:192.168.1.1".parse().unwrap()));
        assert!(b.contains("fd12::1".parse().unwrap()));
        assert!(!b.contains("fe80::1".parse().unwrap()));
        let err = Balancers::parse(&["10.0.0.0/33".into()]).unwrap_err();
        assert!(err.to_string().contains("proxy_from"), "{err}");
        assert!(Balancers::parse(&["balancer.local".into()]).is_err());
    }

    #[tokio::test]
    async fn the_client_address_comes_from_the_header() {
        let client: SocketAddr = "203.0.113.7:5555".parse().unwrap();
        let server: SocketAddr = "10.0.0.1:2222".parse().unwrap();
        let mut bytes = header_for(client, server).unwrap();
        bytes.extend_from_slice(b"SSH-2.0-x\r\n");
        let mut r = bytes.as_slice();
        assert_eq!(read_header(&mut r).await.unwrap(), Some(client));
        assert_eq!(r, b"SSH-2.0-x\r\n", "the SSH banner is left to read");
        let mut plain: &[u8] = b"SSH-2.0-OpenSSH_9.6\r\n";
        assert!(matches!(
            read_header(&mut plain).await,
            Err(ProxyError::Missing)
        ));
    }
}
