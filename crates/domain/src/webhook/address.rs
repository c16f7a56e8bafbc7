//! Which addresses a webhook may be sent to. A webhook URL is typed by an ADMIN but fetched by
//! the server, from inside its network: without a guard it could reach the database, the cloud
//! metadata service (169.254.169.254) or anything else only the server can reach. Every
//! address the URL's host resolves to must be public — at registration and again at each
//! delivery (the client connects to exactly the addresses checked, so a DNS answer that
//! changes in between cannot slip a private one in).

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// Whether private addresses are allowed (`--allow-private-webhooks`: tests and closed
/// networks), which also allows plain `http`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum AddressRule {
    /// Only public addresses, only `https` (the default).
    #[default]
    PublicOnly,
    /// Any address, `http` too.
    AllowPrivate,
}

/// Why a webhook may not be sent to `ip`, or `None` when it may. Refused: unspecified,
/// loopback, link-local, private (RFC 1918, unique-local `fc00::/7`), shared (CGNAT,
/// `100.64.0.0/10`), multicast and broadcast addresses, "this network" (`0.0.0.0/8`), and
/// IPv6 addresses that embed a refused IPv4 one (`::ffff:127.0.0.1`).
pub fn forbidden_reason(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => match v6.to_ipv4_mapped() {
            Some(v4) => forbidden_v4(v4),
            None => forbidden_v6(v6),
        },
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, ..] = ip.octets();
    if ip.is_unspecified() || a == 0 {
        Some("an unspecified address")
    } else if ip.is_loopback() {
        Some("a loopback address")
    } else if ip.is_link_local() {
        Some("a link-local address")
    } else if ip.is_private() {
        Some("a private address")
    } else if a == 100 && (64..128).contains(&b) {
        Some("a shared (CGNAT) address")
    } else if ip.is_multicast() || ip.is_broadcast() {
        Some("a multicast or broadcast address")
    } else {
        None
    }
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    let first = ip.segments()[0];
    if ip.is_unspecified() {
        Some("an unspecified address")
    } else if ip.is_loopback() {
        Some("a loopback address")
    } else if first & 0xffc0 == 0xfe80 {
        Some("a link-local address")
    } else if first & 0xfe00 == 0xfc00 {
        Some("a private (unique-local) address")
    } else if ip.is_multicast() {
        Some("a multicast address")
    } else if let Some(v4) = ip.to_ipv4().filter(|_| ip.segments()[..6] == [0; 6]) {
        // IPv4-compatible (`::a.b.c.d`, deprecated but still routed by some stacks).
        forbidden_v4(v4)
    } else {
        None
    }
}

impl AddressRule {
    /// Checks every address a host resolved to: all must be allowed.
    ///
    /// # Errors
    /// A message naming the first refused address and why.
    pub fn check(self, addresses: &[IpAddr]) -> Result<(), String> {
        if addresses.is_empty() {
            return Err("the host resolves to no address".to_owned());
        }
        if self == Self::AllowPrivate {
            return Ok(());
        }
        match addresses.iter().find_map(|ip| forbidden_reason(*ip).map(|why| (ip, why))) {
            Some((ip, why)) => Err(format!("the host resolves to {ip}, {why}; webhooks go to public addresses only")),
            None => Ok(()),
        }
    }

    /// Whether plain `http` URLs are allowed.
    pub fn allows_http(self) -> bool {
        self == Self::AllowPrivate
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().expect("an address")
    }

    #[test]
    fn internal_addresses_are_refused() {
        for bad in [
            "127.0.0.1",
            "127.8.9.1",
            "0.0.0.0",
            "0.1.2.3",
            "10.0.0.1",
            "172.16.0.1",
            "172.31.255.255",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "100.127.255.254",
            "224.0.0.1",
            "255.255.255.255",
            "::",
            "::1",
            "fe80::1",
            "febf::1",
            "fc00::1",
            "fd12:3456::1",
            "ff02::1",
            "::ffff:127.0.0.1",
            "::ffff:10.1.2.3",
            "::127.0.0.1",
        ] {
            assert!(forbidden_reason(ip(bad)).is_some(), "{bad} must be refused");
        }
    }

    #[test]
    fn public_addresses_pass() {
        for good in
            ["8.8.8.8", "1.1.1.1", "172.32.0.1", "100.128.0.1", "100.63.255.255", "2606:4700::1111", "::ffff:8.8.8.8"]
        {
            assert_eq!(forbidden_reason(ip(good)), None, "{good} is public");
        }
    }

    #[test]
    fn every_address_must_pass_unless_private_ones_are_allowed() {
        let mixed = [ip("8.8.8.8"), ip("10.0.0.1")];
        let err = AddressRule::PublicOnly.check(&mixed).expect_err("one private address refuses the host");
        assert!(err.contains("10.0.0.1") && err.contains("private"), "{err}");
        assert!(AddressRule::PublicOnly.check(&[ip("8.8.8.8")]).is_ok());
        assert!(AddressRule::AllowPrivate.check(&mixed).is_ok());
        assert!(AddressRule::AllowPrivate.check(&[]).is_err(), "no address at all is never fine");
        assert!(!AddressRule::PublicOnly.allows_http());
        assert!(AddressRule::AllowPrivate.allows_http());
    }
}
