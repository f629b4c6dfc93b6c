//! Outgoing HTTP from guests: denied unless a function's
//! `allowed_outbound_hosts` names the destination (Spin's idea), and never
//! to the host's own listener unless an entry names its exact address.
//!
//! An entry is `scheme://host[:port]`:
//! - `scheme` is `http`, `https` or `*`;
//! - `host` is a name or IP address, `*` (any host) or `*.example.com` (any
//!   subdomain of example.com, not example.com itself);
//! - `port` is a number or `*`; without it the scheme's default port (80 or
//!   443) is meant.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::{Arc, RwLock};

/// Why an allowlist entry is not valid.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "`{entry}` is not a valid outbound host: {reason} (expected scheme://host[:port], e.g. https://api.example.com or http://127.0.0.1:9000)"
)]
pub struct BadOutboundHost {
    /// The entry as written.
    pub entry: String,
    /// What is wrong with it.
    pub reason: &'static str,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum SchemePattern {
    Http,
    Https,
    Any,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum HostPattern {
    /// A name (lower-cased) or an IP address.
    Exact(Host),
    /// `*.suffix`: any name ending in `.suffix`.
    Subdomains(String),
    /// `*`.
    Any,
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Host {
    Name(String),
    Ip(IpAddr),
}

impl Host {
    fn parse(s: &str) -> Host {
        let trimmed = s.trim_start_matches('[').trim_end_matches(']');
        match trimmed.parse::<IpAddr>() {
            Ok(ip) => Host::Ip(canonical_ip(ip)),
            Err(_) => Host::Name(s.trim_end_matches('.').to_ascii_lowercase()),
        }
    }
}

/// An IPv4-mapped IPv6 address as the IPv4 address it stands for.
fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(ip, IpAddr::V4),
        v4 => v4,
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum PortPattern {
    Exact(u16),
    Any,
}

/// One parsed `allowed_outbound_hosts` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundRule {
    scheme: SchemePattern,
    host: HostPattern,
    port: PortPattern,
    text: String,
}

impl OutboundRule {
    /// Parses one entry (see the module docs for the grammar).
    pub fn parse(entry: &str) -> Result<Self, BadOutboundHost> {
        let bad = |reason| BadOutboundHost {
            entry: entry.to_string(),
            reason,
        };
        let (scheme, rest) = entry.split_once("://").ok_or_else(|| bad("no scheme"))?;
        let scheme = match scheme.to_ascii_lowercase().as_str() {
            "http" => SchemePattern::Http,
            "https" => SchemePattern::Https,
            "*" => SchemePattern::Any,
            _ => return Err(bad("the scheme must be http, https or *")),
        };
        let rest = rest.strip_suffix('/').unwrap_or(rest);
        if rest.is_empty() {
            return Err(bad("no host"));
        }
        if rest.contains(['/', '?', '#', '@']) {
            return Err(bad(
                "only scheme, host and port are allowed (no path or user)",
            ));
        }
        let (host, port) = split_host_port(rest).ok_or_else(|| bad("malformed host or port"))?;
        let port = match port {
            None => match scheme {
                SchemePattern::Http => PortPattern::Exact(80),
                SchemePattern::Https => PortPattern::Exact(443),
                SchemePattern::Any => return Err(bad("a `*` scheme needs an explicit port")),
            },
            Some("*") => PortPattern::Any,
            Some(p) => PortPattern::Exact(
                p.parse()
                    .map_err(|_| bad("the port must be a number or *"))?,
            ),
        };
        let host = if host == "*" {
            HostPattern::Any
        } else if let Some(suffix) = host.strip_prefix("*.") {
            if suffix.is_empty() || suffix.contains('*') {
                return Err(bad("`*` may only stand for a whole leading label"));
            }
            HostPattern::Subdomains(suffix.trim_end_matches('.').to_ascii_lowercase())
        } else if host.contains('*') {
            return Err(bad("`*` may only stand for a whole leading label"));
        } else {
            HostPattern::Exact(Host::parse(host))
        };
        Ok(OutboundRule {
            scheme,
            host,
            port,
            text: entry.to_string(),
        })
    }

    /// The entry as configured.
    pub fn as_str(&self) -> &str {
        &self.text
    }

    /// Whether this entry names exactly this scheme, host and port (no wildcard).
    fn names_exactly(&self, scheme: &str, host: &Host, port: u16) -> bool {
        self.scheme_matches(scheme)
            && self.scheme != SchemePattern::Any
            && self.host == HostPattern::Exact(host.clone())
            && self.port == PortPattern::Exact(port)
    }

    fn scheme_matches(&self, scheme: &str) -> bool {
        match self.scheme {
            SchemePattern::Http => scheme == "http",
            SchemePattern::Https => scheme == "https",
            SchemePattern::Any => true,
        }
    }

    fn matches(&self, scheme: &str, host: &Host, port: u16) -> bool {
        let host_ok = match (&self.host, host) {
            (HostPattern::Any, _) => true,
            (HostPattern::Exact(h), _) => h == host,
            (HostPattern::Subdomains(suffix), Host::Name(name)) => name
                .strip_suffix(suffix.as_str())
                .is_some_and(|head| head.len() > 1 && head.ends_with('.')),
            (HostPattern::Subdomains(_), Host::Ip(_)) => false,
        };
        let port_ok = match self.port {
            PortPattern::Any => true,
            PortPattern::Exact(p) => p == port,
        };
        self.scheme_matches(scheme) && host_ok && port_ok
    }
}

/// `host[:port]` (with `[v6]` brackets) into its parts.
fn split_host_port(s: &str) -> Option<(&str, Option<&str>)> {
    if let Some(rest) = s.strip_prefix('[') {
        let (host, after) = rest.split_once(']')?;
        return match after {
            "" => Some((host, None)),
            p => Some((host, Some(p.strip_prefix(':')?))),
        };
    }
    match s.rsplit_once(':') {
        Some((h, _)) if h.contains(':') => Some((s, None)), // bare IPv6
        Some((h, p)) if !h.is_empty() && !p.is_empty() => Some((h, Some(p))),
        Some(_) => None,
        None => Some((s, None)),
    }
}

/// The addresses of the host's own listener, shared by every store so that
/// the port bound at start-up (`--listen 127.0.0.1:0`) is known to the check.
#[derive(Debug, Default, Clone)]
pub struct ListenAddrs(Arc<RwLock<Vec<SocketAddr>>>);

impl ListenAddrs {
    /// Records an address the host listens on.
    pub fn add(&self, addr: SocketAddr) {
        let mut v = self
            .0
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if !v.contains(&addr) {
            v.push(addr);
        }
    }

    fn list(&self) -> Vec<SocketAddr> {
        self.0
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .clone()
    }
}

/// A function's outbound policy: its allowlist and the host's own addresses.
#[derive(Debug, Clone, Default)]
pub struct OutboundPolicy {
    rules: Arc<[OutboundRule]>,
    listen: ListenAddrs,
}

/// Why a request was refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Denied {
    /// No allowlist entry matches.
    NotAllowed,
    /// The destination is the host's own listener, which only an exact
    /// entry may open.
    OwnListener,
    /// The URL has no usable host.
    BadUrl,
}

impl Denied {
    /// A short explanation for the log.
    pub fn as_str(&self) -> &'static str {
        match self {
            Denied::NotAllowed => "not in allowed_outbound_hosts",
            Denied::OwnListener => {
                "the host's own listener (only an exact allowed_outbound_hosts entry opens it)"
            }
            Denied::BadUrl => "the URL has no host",
        }
    }
}

impl OutboundPolicy {
    /// The policy for `entries` (already validated by the config).
    pub fn new(entries: &[String], listen: ListenAddrs) -> Result<Self, BadOutboundHost> {
        let rules = entries
            .iter()
            .map(|e| OutboundRule::parse(e))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(OutboundPolicy {
            rules: rules.into(),
            listen,
        })
    }

    /// Whether any outgoing request could be allowed at all.
    pub fn is_empty(&self) -> bool {
        self.rules.is_empty()
    }

    /// Checks a request for `uri` before anything is sent. `resolved` are
    /// the addresses the host name resolves to (empty if not resolved), so a
    /// name that points at the host itself is caught too.
    pub fn check(&self, uri: &http::Uri, resolved: &[SocketAddr]) -> Result<(), Denied> {
        let (scheme, host, port) = target(uri).ok_or(Denied::BadUrl)?;
        let exact = self
            .rules
            .iter()
            .any(|r| r.names_exactly(scheme, &host, port));
        if exact {
            return Ok(());
        }
        if !self.rules.iter().any(|r| r.matches(scheme, &host, port)) {
            return Err(Denied::NotAllowed);
        }
        let own = self.listen.list();
        let own_port = |p: u16| own.iter().any(|a| a.port() == p);
        // On its port, the host answers at every loopback and unspecified
        // address, at its listen address, and (listening on 0.0.0.0 or ::)
        // at any address of the machine.
        let is_own = |ip: IpAddr, p: u16| {
            let ip = canonical_ip(ip);
            own.iter().any(|a| {
                a.port() == p
                    && (is_local(ip) || a.ip().is_unspecified() || canonical_ip(a.ip()) == ip)
            })
        };
        let named_local = match &host {
            Host::Name(n) => is_localhost_name(n),
            Host::Ip(ip) => is_own(*ip, port),
        };
        if (named_local && own_port(port)) || resolved.iter().any(|a| is_own(a.ip(), a.port())) {
            return Err(Denied::OwnListener);
        }
        Ok(())
    }
}

/// `localhost` and its subdomains (which resolvers map to loopback).
fn is_localhost_name(name: &str) -> bool {
    name == "localhost" || name.ends_with(".localhost")
}

/// Loopback and unspecified addresses: all reach a listener on this machine.
fn is_local(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => v4.is_loopback() || v4 == Ipv4Addr::UNSPECIFIED,
        IpAddr::V6(v6) => v6.is_loopback() || v6 == Ipv6Addr::UNSPECIFIED,
    }
}

/// Scheme, host and port of a request URI (default port from the scheme).
fn target(uri: &http::Uri) -> Option<(&str, Host, u16)> {
    let scheme = uri.scheme_str().unwrap_or("https");
    let authority = uri.authority()?;
    let host = authority.host();
    if host.is_empty() {
        return None;
    }
    let port = authority.port_u16().or(match scheme {
        "http" => Some(80),
        "https" => Some(443),
        _ => None,
    })?;
    Some((scheme, Host::parse(host), port))
}

/// The host and port to resolve for `uri`, when its host is a name.
pub fn name_to_resolve(uri: &http::Uri) -> Option<String> {
    let (_, host, port) = target(uri)?;
    match host {
        Host::Name(n) => Some(format!("{n}:{port}")),
        Host::Ip(_) => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn policy(entries: &[&str], listen: &[&str]) -> OutboundPolicy {
        let l = ListenAddrs::default();
        for a in listen {
            l.add(a.parse().expect("addr"));
        }
        let entries: Vec<String> = entries.iter().map(|s| s.to_string()).collect();
        OutboundPolicy::new(&entries, l).expect("valid")
    }

    fn check(p: &OutboundPolicy, url: &str) -> Result<(), Denied> {
        p.check(&url.parse().expect("uri"), &[])
    }

    #[test]
    fn entries_parse_and_bad_ones_are_refused() {
        for ok in [
            "https://api.example.com",
            "http://127.0.0.1:9000",
            "https://*.example.com",
            "http://localhost:*",
            "*://example.com:8443",
            "http://[::1]:8080",
            "https://*",
        ] {
            assert!(OutboundRule::parse(ok).is_ok(), "{ok}");
        }
        for bad in [
            "api.example.com",
            "ftp://example.com",
            "https://",
            "https://a*.example.com",
            "https://example.com/path",
            "https://example.com:http",
            "*://example.com",
        ] {
            assert!(OutboundRule::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn empty_list_denies_everything() {
        let p = policy(&[], &["127.0.0.1:8080"]);
        assert_eq!(check(&p, "https://example.com/"), Err(Denied::NotAllowed));
    }

    #[test]
    fn scheme_host_and_port_must_match() {
        let p = policy(
            &[
                "https://api.example.com",
                "https://*.example.org",
                "http://localhost:*",
            ],
            &[],
        );
        assert_eq!(check(&p, "https://api.example.com/x"), Ok(()));
        assert_eq!(check(&p, "https://API.example.com:443/x"), Ok(()));
        assert_eq!(
            check(&p, "http://api.example.com/x"),
            Err(Denied::NotAllowed)
        );
        assert_eq!(
            check(&p, "https://api.example.com:8443/"),
            Err(Denied::NotAllowed)
        );
        assert_eq!(check(&p, "https://a.b.example.org/"), Ok(()));
        assert_eq!(check(&p, "https://example.org/"), Err(Denied::NotAllowed));
        assert_eq!(
            check(&p, "https://badexample.org/"),
            Err(Denied::NotAllowed)
        );
        assert_eq!(check(&p, "http://localhost:1234/"), Ok(()));
    }

    #[test]
    fn own_listener_needs_an_exact_entry() {
        let own = &["127.0.0.1:8080"];
        for entry in [
            "http://127.0.0.1:*",
            "http://*:*",
            "*://*:*",
            "http://localhost:*",
        ] {
            let p = policy(&[entry], own);
            for url in [
                "http://127.0.0.1:8080/api/functions",
                "http://127.0.0.2:8080/",
                "http://localhost:8080/",
                "http://0.0.0.0:8080/",
                "http://[::1]:8080/",
                "http://[::ffff:127.0.0.1]:8080/",
            ] {
                let r = check(&p, url);
                assert!(r.is_err(), "{entry} must not open {url}");
            }
        }
        let p = policy(&["http://127.0.0.1:*"], own);
        assert_eq!(check(&p, "http://127.0.0.1:9000/"), Ok(()));
        let p = policy(&["http://127.0.0.1:8080"], own);
        assert_eq!(check(&p, "http://127.0.0.1:8080/healthz"), Ok(()));
        // A name resolving to the host itself is caught by its addresses.
        let p = policy(&["http://*.example.com:*"], own);
        let uri: http::Uri = "http://evil.example.com:8080/".parse().expect("uri");
        let resolved = ["127.0.0.1:8080".parse().expect("addr")];
        assert_eq!(p.check(&uri, &resolved), Err(Denied::OwnListener));
        assert_eq!(p.check(&uri, &[]), Ok(()));
    }

    #[test]
    fn listening_on_every_address_protects_its_port_everywhere() {
        let p = policy(&["http://*:*"], &["0.0.0.0:8080"]);
        assert_eq!(check(&p, "http://10.1.2.3:8080/"), Err(Denied::OwnListener));
        assert_eq!(check(&p, "http://10.1.2.3:8081/"), Ok(()));
    }

    #[test]
    fn a_public_listen_address_is_protected_too() {
        let p = policy(&["http://*:*"], &["10.1.2.3:8080"]);
        assert_eq!(check(&p, "http://10.1.2.3:8080/"), Err(Denied::OwnListener));
        assert_eq!(
            check(&p, "http://127.0.0.1:8080/"),
            Err(Denied::OwnListener)
        );
        assert_eq!(check(&p, "http://10.1.2.3:8081/"), Ok(()));
    }
}
