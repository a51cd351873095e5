//! Who is calling, as far as the network tells: the peer's address, or, when the peer is
//! a proxy we trust (`OCOD_TRUSTED_PROXIES`), the right-most address in
//! `X-Forwarded-For` that is not one of our proxies. Anything a client wrote further left
//! is not believed: a client can prepend whatever it likes, only our proxies append.

use std::net::IpAddr;

use actix_web::HttpRequest;

/// An address block (`10.0.0.0/8`, `::1/128`; a bare address is a block of one).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    network: IpAddr,
    prefix: u8,
}

impl Cidr {
    pub fn parse(raw: &str) -> Result<Cidr, String> {
        let raw = raw.trim();
        let (addr, prefix) = match raw.split_once('/') {
            Some((a, p)) => (a, Some(p)),
            None => (raw, None),
        };
        let network: IpAddr = addr
            .parse()
            .map_err(|_| format!("`{raw}` is not an address or address/prefix"))?;
        let max = if network.is_ipv4() { 32 } else { 128 };
        let prefix = match prefix {
            None => max,
            Some(p) => p
                .parse::<u8>()
                .ok()
                .filter(|p| *p <= max)
                .ok_or_else(|| format!("`{raw}`: the prefix must be 0 to {max}"))?,
        };
        Ok(Cidr { network, prefix })
    }

    /// A comma-separated list (`OCOD_TRUSTED_PROXIES`); empty is none.
    pub fn parse_list(raw: &str) -> Result<Vec<Cidr>, String> {
        raw.split(',')
            .map(str::trim)
            .filter(|p| !p.is_empty())
            .map(Cidr::parse)
            .collect()
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        let ip = canonical(ip);
        match (canonical(self.network), ip) {
            (IpAddr::V4(net), IpAddr::V4(ip)) => {
                let mask = u32::MAX
                    .checked_shl(32 - u32::from(self.prefix))
                    .unwrap_or(0);
                u32::from(net) & mask == u32::from(ip) & mask
            }
            (IpAddr::V6(net), IpAddr::V6(ip)) => {
                let mask = u128::MAX
                    .checked_shl(128 - u32::from(self.prefix))
                    .unwrap_or(0);
                u128::from(net) & mask == u128::from(ip) & mask
            }
            _ => false,
        }
    }
}

/// IPv4 written as IPv6 (`::ffff:203.0.113.5`) is the IPv4 address.
fn canonical(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

/// The caller's address: the peer, or through trusted proxies the right-most forwarded
/// address that is not one of them.
pub fn resolve(peer: IpAddr, forwarded_for: &[&str], trusted: &[Cidr]) -> IpAddr {
    let is_trusted = |ip: IpAddr| trusted.iter().any(|c| c.contains(ip));
    let peer = canonical(peer);
    if !is_trusted(peer) {
        return peer;
    }
    let mut client = peer;
    for hop in forwarded_for
        .iter()
        .flat_map(|h| h.split(','))
        .map(str::trim)
        .rev()
    {
        let Some(ip) = parse_hop(hop) else {
            // A hop we cannot read: stop believing what lies beyond it.
            break;
        };
        client = canonical(ip);
        if !is_trusted(client) {
            break;
        }
    }
    client
}

/// One `X-Forwarded-For` entry: an address, maybe with a port (`203.0.113.5:4711`,
/// `[2001:db8::1]:4711`).
fn parse_hop(hop: &str) -> Option<IpAddr> {
    if let Ok(ip) = hop.parse() {
        return Some(ip);
    }
    if let Some(rest) = hop.strip_prefix('[') {
        return rest.split_once(']')?.0.parse().ok();
    }
    hop.rsplit_once(':')?.0.parse().ok()
}

/// The calling client's address for `req`.
pub fn of_request(req: &HttpRequest, trusted: &[Cidr]) -> Option<IpAddr> {
    let peer = req.peer_addr()?.ip();
    let forwarded: Vec<&str> = req
        .headers()
        .get_all("x-forwarded-for")
        .filter_map(|v| v.to_str().ok())
        .collect();
    Some(resolve(peer, &forwarded, trusted))
}

/// What a per-address limit counts: the address itself for IPv4, its /64 for IPv6 (one
/// household or phone gets a whole /64 and could walk through it).
pub fn limit_key(ip: IpAddr) -> String {
    match canonical(ip) {
        IpAddr::V4(v4) => v4.to_string(),
        IpAddr::V6(v6) => {
            let s = v6.segments();
            format!("{:x}:{:x}:{:x}:{:x}::/64", s[0], s[1], s[2], s[3])
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ip(s: &str) -> IpAddr {
        s.parse().unwrap()
    }

    #[test]
    fn blocks_contain_their_addresses() {
        let ten = Cidr::parse("10.0.0.0/8").unwrap();
        assert!(ten.contains(ip("10.200.3.4")));
        assert!(!ten.contains(ip("11.0.0.1")));
        assert!(ten.contains(ip("::ffff:10.1.2.3")), "IPv4-mapped IPv6");
        assert!(Cidr::parse("0.0.0.0/0")
            .unwrap()
            .contains(ip("203.0.113.5")));
        assert!(Cidr::parse("127.0.0.1").unwrap().contains(ip("127.0.0.1")));
        assert!(!Cidr::parse("127.0.0.1").unwrap().contains(ip("127.0.0.2")));
        let v6 = Cidr::parse("2001:db8::/32").unwrap();
        assert!(v6.contains(ip("2001:db8:1::9")));
        assert!(!v6.contains(ip("2001:db9::1")));
        for bad in ["10.0.0.0/33", "nonsense", "::/129", "10.0.0.0/x"] {
            assert!(Cidr::parse(bad).is_err(), "{bad}");
        }
        assert_eq!(Cidr::parse_list(" 10.0.0.0/8, ::1 ,").unwrap().len(), 2);
        assert!(Cidr::parse_list("").unwrap().is_empty());
    }

    #[test]
    fn only_our_proxies_are_believed_about_who_called() {
        let proxies = Cidr::parse_list("127.0.0.1, 10.0.0.0/8").unwrap();
        // Not through a proxy: the header is the client's own words.
        assert_eq!(
            resolve(ip("198.51.100.7"), &["1.2.3.4"], &proxies),
            ip("198.51.100.7")
        );
        // Through our proxy: the address it saw.
        assert_eq!(
            resolve(ip("127.0.0.1"), &["203.0.113.5"], &proxies),
            ip("203.0.113.5")
        );
        // A client that prepends a lie gets its real address counted.
        assert_eq!(
            resolve(ip("127.0.0.1"), &["6.6.6.6, 203.0.113.5"], &proxies),
            ip("203.0.113.5")
        );
        // Two of our proxies in a row, across two headers, ports written.
        assert_eq!(
            resolve(ip("127.0.0.1"), &["203.0.113.5:4711", "10.1.1.1"], &proxies),
            ip("203.0.113.5")
        );
        // Nothing forwarded: the proxy itself.
        assert_eq!(resolve(ip("127.0.0.1"), &[], &proxies), ip("127.0.0.1"));
        // An unreadable hop ends the trust: the last address believed counts.
        assert_eq!(
            resolve(ip("127.0.0.1"), &["junk, 10.2.2.2"], &proxies),
            ip("10.2.2.2")
        );
        // No trusted proxies at all: always the peer.
        assert_eq!(
            resolve(ip("127.0.0.1"), &["203.0.113.5"], &[]),
            ip("127.0.0.1")
        );
    }

    #[test]
    fn ipv6_callers_are_counted_by_their_64() {
        assert_eq!(
            limit_key(ip("2001:db8:1:2:aaaa::1")),
            limit_key(ip("2001:db8:1:2:bbbb::9"))
        );
        assert_ne!(
            limit_key(ip("2001:db8:1:2::1")),
            limit_key(ip("2001:db8:1:3::1"))
        );
        assert_eq!(limit_key(ip("::ffff:203.0.113.5")), "203.0.113.5");
    }
}
