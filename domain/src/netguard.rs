//! Where the platform may send requests on an integrator's behalf (webhook
//! URLs): never to loopback, private, link-local, shared, multicast or
//! reserved addresses, nor to cloud metadata services - checked on the URL
//! when it is registered and on every resolved address before each send, so
//! a name that later resolves inward (DNS rebinding) is refused too. A
//! deployment may open named ranges (e.g. an integration network) with an
//! allow list; only hosts in it may be reached over plain `http`.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ipnet::IpNet;
use url::{Host, Url};

/// Why a URL or address is refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Refused {
    /// Not an absolute URL with a host and a port.
    #[error("not a valid absolute URL")]
    Malformed,
    /// Neither `https` nor `http` to an address the deployment allows.
    #[error("use https (plain http only for hosts the deployment allows)")]
    Scheme,
    /// The URL carries a user name or password.
    #[error("URLs with user names or passwords are not accepted")]
    Credentials,
    /// A host name that always points inside (`localhost`, `*.internal`, metadata).
    #[error("the host {0} is not allowed")]
    Host(String),
    /// An address in a forbidden range, and which range it is in.
    #[error("the address {0} is {1}")]
    Address(IpAddr, &'static str),
    /// Longer than 2000 characters.
    #[error("URLs are at most 2000 characters")]
    TooLong,
}

/// A vetted URL: where to connect, to be checked again once resolved.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    /// The URL as parsed.
    pub url: Url,
    /// The host name, lower-cased without a trailing dot, or the address as text.
    pub host: String,
    /// The explicit port, or the scheme's default.
    pub port: u16,
    /// Set when the URL names an address rather than a host name.
    pub ip: Option<IpAddr>,
}

/// Ranges the deployment opens despite the rules (an allow list).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Allowed(pub Vec<IpNet>);

impl Allowed {
    /// Parses `10.20.0.0/16,127.0.0.2/32`-style lists (empty: none).
    pub fn parse(list: &str) -> Result<Allowed, String> {
        list.split(',')
            .map(str::trim)
            .filter(|s| !s.is_empty())
            .map(|s| s.parse::<IpNet>().map_err(|e| format!("{s}: {e}")))
            .collect::<Result<Vec<_>, _>>()
            .map(Allowed)
    }

    /// Whether `ip` lies in one of the opened ranges.
    pub fn contains(&self, ip: IpAddr) -> bool {
        self.0.iter().any(|net| net.contains(&ip))
    }
}

/// Host names that always point inside.
const BLOCKED_NAMES: [&str; 4] = [
    "localhost",
    "metadata.google.internal",
    "metadata",
    "instance-data",
];

/// Checks a URL as registered: scheme, no credentials, a host that is not
/// obviously inward. Names are resolved and checked again at send time.
pub fn check_url(raw: &str, allowed: &Allowed) -> Result<Target, Refused> {
    if raw.len() > 2000 {
        return Err(Refused::TooLong);
    }
    let url = Url::parse(raw).map_err(|_| Refused::Malformed)?;
    if !url.username().is_empty() || url.password().is_some() {
        return Err(Refused::Credentials);
    }
    let port = url.port_or_known_default().ok_or(Refused::Malformed)?;
    let (host, ip) = match url.host() {
        Some(Host::Ipv4(v4)) => (v4.to_string(), Some(IpAddr::V4(v4))),
        Some(Host::Ipv6(v6)) => (v6.to_string(), Some(IpAddr::V6(v6))),
        Some(Host::Domain(name)) => {
            let name = name.trim_end_matches('.').to_ascii_lowercase();
            if BLOCKED_NAMES.contains(&name.as_str())
                || name.ends_with(".localhost")
                || name.ends_with(".internal")
                || name.ends_with(".local")
            {
                return Err(Refused::Host(name));
            }
            (name, None)
        }
        None => return Err(Refused::Malformed),
    };
    match url.scheme() {
        "https" => {}
        "http" if ip.is_some_and(|ip| allowed.contains(ip)) => {}
        _ => return Err(Refused::Scheme),
    }
    if let Some(ip) = ip {
        check_address(ip, allowed)?;
    }
    Ok(Target {
        url,
        host,
        port,
        ip,
    })
}

/// Checks one address a URL resolved to.
pub fn check_address(ip: IpAddr, allowed: &Allowed) -> Result<(), Refused> {
    if allowed.contains(ip) {
        return Ok(());
    }
    match forbidden(ip) {
        Some(why) => Err(Refused::Address(ip, why)),
        None => Ok(()),
    }
}

/// Why an address is never a webhook destination, if it is not.
pub fn forbidden(ip: IpAddr) -> Option<&'static str> {
    match ip {
        IpAddr::V4(v4) => forbidden_v4(v4),
        IpAddr::V6(v6) => forbidden_v6(v6),
    }
}

fn forbidden_v4(ip: Ipv4Addr) -> Option<&'static str> {
    let [a, b, c, _] = ip.octets();
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_private() {
        Some("private")
    } else if ip.is_link_local() {
        Some("link-local (cloud metadata lives here)")
    } else if a == 100 && (b & 0xc0) == 64 {
        // 100.64.0.0/10, carrier-grade NAT; Alibaba Cloud's metadata is 100.100.100.200.
        Some("shared address space (cloud metadata lives here)")
    } else if ip.is_unspecified() || a == 0 {
        Some("unspecified")
    } else if ip.is_broadcast() || ip.is_multicast() || a >= 240 {
        Some("broadcast, multicast or reserved")
    } else if (a == 192 && b == 0 && c == 0) || (a == 198 && (b & 0xfe) == 18) {
        Some("reserved for protocols or benchmarking")
    } else if ip.is_documentation() {
        Some("reserved for documentation")
    } else {
        None
    }
}

fn forbidden_v6(ip: Ipv6Addr) -> Option<&'static str> {
    if let Some(v4) = ip.to_ipv4_mapped() {
        return forbidden_v4(v4);
    }
    let [first, second, ..] = ip.segments();
    if ip.is_loopback() {
        Some("loopback")
    } else if ip.is_unspecified() {
        Some("unspecified")
    } else if (first & 0xfe00) == 0xfc00 {
        Some("private (unique local)")
    } else if (first & 0xffc0) == 0xfe80 {
        Some("link-local")
    } else if ip.is_multicast() {
        Some("multicast")
    } else if first == 0x2001 && second == 0x0db8 {
        Some("reserved for documentation")
    } else if first == 0x0064 && second == 0xff9b {
        // NAT64 maps the IPv4 space; refuse rather than decode it.
        Some("NAT64")
    } else if first == 0x2002 {
        Some("6to4 (embeds an IPv4 address)")
    } else {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn none() -> Allowed {
        Allowed::default()
    }

    #[test]
    fn inward_addresses_are_refused() {
        for bad in [
            "127.0.0.1",
            "127.8.9.1",
            "10.1.2.3",
            "172.16.0.1",
            "172.31.255.254",
            "192.168.1.1",
            "169.254.169.254",
            "100.100.100.200",
            "100.64.0.1",
            "0.0.0.0",
            "255.255.255.255",
            "224.0.0.1",
            "::1",
            "::",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::ffff:169.254.169.254",
            "64:ff9b::a9fe:a9fe",
            "2002:7f00:1::",
        ] {
            let ip: IpAddr = bad.parse().unwrap();
            assert!(forbidden(ip).is_some(), "{bad} must be refused");
        }
        for good in [
            "8.8.8.8",
            "114.114.114.114",
            "172.32.0.1",
            "100.128.0.1",
            "2400:3200::1",
        ] {
            let ip: IpAddr = good.parse().unwrap();
            assert_eq!(forbidden(ip), None, "{good} is public");
        }
    }

    #[test]
    fn urls_are_checked_for_scheme_credentials_and_inward_hosts() {
        let ok = check_url("https://hooks.example.cn:8443/onegrid?x=1", &none()).unwrap();
        assert_eq!(
            (ok.host.as_str(), ok.port, ok.ip),
            ("hooks.example.cn", 8443, None)
        );
        assert_eq!(
            check_url("http://hooks.example.cn/", &none()),
            Err(Refused::Scheme)
        );
        assert_eq!(check_url("ftp://x.example/", &none()), Err(Refused::Scheme));
        assert_eq!(
            check_url("https://u:p@hooks.example.cn/", &none()),
            Err(Refused::Credentials)
        );
        assert_eq!(check_url("not a url", &none()), Err(Refused::Malformed));
        for inward in [
            "https://localhost/",
            "https://LOCALHOST./",
            "https://api.localhost/",
            "https://metadata.google.internal/computeMetadata/v1/",
            "https://127.0.0.1/",
            "https://[::1]/",
            "https://169.254.169.254/latest/meta-data/",
            "https://100.100.100.200/latest/meta-data/",
            "https://2130706433/",
            "https://0x7f.1/",
            "https://[::ffff:10.0.0.1]/",
        ] {
            assert!(check_url(inward, &none()).is_err(), "{inward}");
        }
    }

    #[test]
    fn an_allow_list_opens_named_ranges_and_only_those_for_http() {
        let allowed = Allowed::parse("127.0.0.2/32, 10.20.0.0/16").unwrap();
        let t = check_url("http://127.0.0.2:9000/hook", &allowed).unwrap();
        assert_eq!(t.ip, Some("127.0.0.2".parse().unwrap()));
        assert!(check_url("http://127.0.0.1:9000/hook", &allowed).is_err());
        assert!(check_address("10.20.3.4".parse().unwrap(), &allowed).is_ok());
        assert!(check_address("10.21.3.4".parse().unwrap(), &allowed).is_err());
        assert!(Allowed::parse("10.0.0.0/33").is_err());
        assert_eq!(Allowed::parse("").unwrap(), Allowed::default());
    }
}
