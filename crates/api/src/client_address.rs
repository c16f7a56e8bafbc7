//! The client's address, as rate limiting counts callers by it: the TCP peer's, or — when the
//! peer is a trusted proxy (`--trusted-proxy`) — the rightmost address in `X-Forwarded-For`
//! that is not itself a trusted proxy. Each proxy appends the address it was called from, so
//! everything right of the first untrusted hop was written by proxies we trust, and everything
//! left of it by whoever that hop is, who could have written anything.

use std::net::{IpAddr, SocketAddr};

use axum::http::HeaderMap;
use ipnet::IpNet;

/// The header proxies append the address they were called from to.
const X_FORWARDED_FOR: &str = "x-forwarded-for";

/// More hops than any real chain of proxies; past them the header is not read further.
const MAX_HOPS: usize = 32;

/// The networks whose peers may say, in `X-Forwarded-For`, whom they forward for. None by
/// default: the header is then ignored, as anyone can send it.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

/// A trusted proxy that is neither a CIDR nor an address.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0:?} is not a CIDR (e.g. 10.0.0.0/8 or fd00::/8) or an IP address")]
pub struct NotACidr(pub String);

impl TrustedProxies {
    /// The networks `items` name, each a CIDR (`10.0.0.0/8`, `fd00::/8`) or a single address.
    ///
    /// # Errors
    /// The first item that is neither.
    pub fn parse<S: AsRef<str>>(items: &[S]) -> Result<Self, NotACidr> {
        items
            .iter()
            .map(|item| {
                let text = item.as_ref().trim();
                text.parse::<IpNet>()
                    .map(|net| net.trunc())
                    .or_else(|_| text.parse::<IpAddr>().map(IpNet::from))
                    .map_err(|_| NotACidr(text.to_owned()))
            })
            .collect::<Result<Vec<_>, _>>()
            .map(Self)
    }

    /// The networks, as written back (`10.0.0.0/8`).
    pub fn networks(&self) -> impl Iterator<Item = String> + '_ {
        self.0.iter().map(ToString::to_string)
    }

    /// Whether `ip` is in one of the networks (an IPv4-mapped IPv6 address as its IPv4 one).
    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = ip.to_canonical();
        self.0.iter().any(|net| net.contains(&ip))
    }

    /// The client behind a request from `peer` with `headers`: `peer` itself unless it is
    /// trusted; else the rightmost hop of `X-Forwarded-For` (every such header, in order) that
    /// is not trusted, or the leftmost when all are. A hop that is not an address ends the
    /// walk at the last address read, whoever wrote it.
    pub fn client(&self, peer: IpAddr, headers: &HeaderMap) -> IpAddr {
        let mut client = peer.to_canonical();
        if !self.trusts(client) {
            return client;
        }
        let lines: Vec<_> = headers.get_all(X_FORWARDED_FOR).iter().collect();
        let hops = lines.iter().rev().flat_map(|line| match line.to_str() {
            Ok(text) => text.rsplit(',').map(Some).collect::<Vec<_>>(),
            Err(_) => vec![None],
        });
        for hop in hops.take(MAX_HOPS) {
            let Some(ip) = hop.and_then(parse_hop) else { return client };
            client = ip.to_canonical();
            if !self.trusts(client) {
                return client;
            }
        }
        client
    }
}

/// An address as proxies write it: `192.0.2.1`, `192.0.2.1:4711`, `2001:db8::1` or
/// `[2001:db8::1]:4711`.
fn parse_hop(hop: &str) -> Option<IpAddr> {
    let hop = hop.trim().trim_matches('"');
    hop.parse::<IpAddr>()
        .ok()
        .or_else(|| hop.parse::<SocketAddr>().ok().map(|s| s.ip()))
        .or_else(|| hop.strip_prefix('[')?.strip_suffix(']')?.parse().ok())
}

#[cfg(test)]
mod tests {
    use axum::http::HeaderValue;

    use super::*;

    fn ip(text: &str) -> IpAddr {
        text.parse().expect("an address")
    }

    fn headers(lines: &[&str]) -> HeaderMap {
        let mut headers = HeaderMap::new();
        for line in lines {
            headers.append(X_FORWARDED_FOR, HeaderValue::from_str(line).expect("a header value"));
        }
        headers
    }

    #[test]
    fn cidrs_and_addresses_parse_and_anything_else_is_refused() {
        let trusted = TrustedProxies::parse(&["10.0.0.0/8", " 192.0.2.1 ", "fd00::/8", "10.1.2.3/16"]).expect("valid");
        assert_eq!(trusted.networks().collect::<Vec<_>>(), ["10.0.0.0/8", "192.0.2.1/32", "fd00::/8", "10.1.0.0/16"]);
        assert!(
            trusted.trusts(ip("10.9.9.9")) && trusted.trusts(ip("::ffff:10.9.9.9")) && trusted.trusts(ip("fd12::1"))
        );
        assert!(!trusted.trusts(ip("192.0.2.2")) && !trusted.trusts(ip("11.0.0.1")));
        for bad in ["10.0.0.0/33", "10.0.0", "proxy.example", "", "10.0.0.0/8/8", "*"] {
            assert_eq!(TrustedProxies::parse(&[bad]), Err(NotACidr(bad.trim().to_owned())), "{bad}");
        }
    }

    #[test]
    fn the_header_counts_only_from_a_trusted_peer() {
        let none = TrustedProxies::default();
        assert_eq!(none.client(ip("203.0.113.5"), &headers(&["198.51.100.1"])), ip("203.0.113.5"));
        let trusted = TrustedProxies::parse(&["10.0.0.0/8"]).expect("valid");
        assert_eq!(trusted.client(ip("203.0.113.5"), &headers(&["198.51.100.1"])), ip("203.0.113.5"), "spoofed");
        assert_eq!(trusted.client(ip("10.0.0.2"), &headers(&["198.51.100.1"])), ip("198.51.100.1"));
        assert_eq!(trusted.client(ip("10.0.0.2"), &HeaderMap::new()), ip("10.0.0.2"), "no header: the proxy");
    }

    #[test]
    fn the_rightmost_untrusted_hop_is_the_client() {
        let trusted = TrustedProxies::parse(&["10.0.0.0/8", "2001:db8:ffff::/48"]).expect("valid");
        let peer = ip("10.0.0.2");
        // What the client wrote itself (the first two) does not count.
        let chain = headers(&["1.1.1.1, 2.2.2.2", "198.51.100.7, 10.0.0.9"]);
        assert_eq!(trusted.client(peer, &chain), ip("198.51.100.7"));
        assert_eq!(trusted.client(peer, &headers(&["1.1.1.1,198.51.100.7,10.0.0.9"])), ip("198.51.100.7"));
        assert_eq!(trusted.client(peer, &headers(&["10.0.0.5, 10.0.0.9"])), ip("10.0.0.5"), "all trusted: leftmost");
        assert_eq!(trusted.client(peer, &headers(&["198.51.100.7:4711"])), ip("198.51.100.7"));
        assert_eq!(trusted.client(peer, &headers(&["[2001:db8::1]:443"])), ip("2001:db8::1"));
        assert_eq!(trusted.client(peer, &headers(&["2001:db8::1, 2001:db8:ffff::2"])), ip("2001:db8::1"));
        assert_eq!(trusted.client(peer, &headers(&["198.51.100.7, unknown"])), peer, "garbage: stop at the proxy");
        assert_eq!(trusted.client(peer, &headers(&["198.51.100.7, 10.0.0.3, bogus"])), peer);
        assert_eq!(trusted.client(peer, &headers(&["junk, 198.51.100.7"])), ip("198.51.100.7"));
        assert_eq!(trusted.client(ip("::ffff:10.0.0.2"), &headers(&["::ffff:198.51.100.7"])), ip("198.51.100.7"));
    }
}
