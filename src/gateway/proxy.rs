//! Which way the gateway's traffic goes: straight to a loopback gateway, or
//! through the proxy the environment names (`HTTP_PROXY`, `HTTPS_PROXY`,
//! `ALL_PROXY`, `NO_PROXY`), and whether the key would then cross the
//! network in cleartext.
//!
//! reqwest picks a proxy per request with hyper-util's [`Matcher`] (curl's
//! rules); asking the same matcher about the gateway URL gives the decision
//! reqwest will make, before anything is sent. See docs/proxy.md.

use std::net::IpAddr;

pub(crate) use hyper_util::client::proxy::matcher::Matcher;

use super::client::GatewayError;

/// How the client reaches the gateway.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Route {
    /// No proxy at all (the environment's proxy variables are ignored).
    Direct,
    /// Whatever the environment says (maybe no proxy for this host).
    Environment,
}

/// The route to `url`. A loopback gateway is reached directly unless
/// `proxy_loopback`. With `guard_key` (a key is sent and
/// `--allow-insecure-http` was not given), a plain-http gateway behind a
/// proxy that is not itself on loopback is refused: the proxy would read the
/// `Authorization` header. An https gateway is fine behind any proxy: the
/// client tunnels TLS through it (`CONNECT`), so the proxy sees only the
/// host name.
pub(crate) fn route(
    url: &reqwest::Url,
    guard_key: bool,
    proxy_loopback: bool,
    matcher: &Matcher,
) -> Result<Route, GatewayError> {
    let host = url.host_str().unwrap_or_default();
    if is_loopback(host) && !proxy_loopback {
        return Ok(Route::Direct);
    }
    let Ok(uri) = url.as_str().parse::<http::Uri>() else {
        return Ok(Route::Environment);
    };
    let Some(proxy) = matcher.intercept(&uri) else {
        return Ok(Route::Environment);
    };
    let proxy_host = proxy.uri().host().unwrap_or_default();
    if guard_key && url.scheme() == "http" && !is_loopback(proxy_host) {
        return Err(GatewayError::CleartextProxy {
            url: without_userinfo(url.as_str()),
            proxy: shown(proxy.uri()),
        });
    }
    Ok(Route::Environment)
}

/// Whether `host` (as in a URL, IPv6 in brackets) is the local machine:
/// `localhost`, `*.localhost`, 127.0.0.0/8, ::1.
pub(crate) fn is_loopback(host: &str) -> bool {
    let h = host.trim_start_matches('[').trim_end_matches(']');
    h.eq_ignore_ascii_case("localhost")
        || h.to_ascii_lowercase().ends_with(".localhost")
        || h.parse::<IpAddr>().is_ok_and(|ip| ip.is_loopback())
}

/// A proxy as printed: scheme, host and port, never its credentials.
fn shown(uri: &http::Uri) -> String {
    let scheme = uri.scheme_str().unwrap_or("http");
    let host = uri.host().unwrap_or_default();
    match uri.port_u16() {
        Some(port) => format!("{scheme}://{host}:{port}"),
        None => format!("{scheme}://{host}"),
    }
}

/// `url` without a `user:password@` part, for messages. Works on text
/// that is not a valid URL too (what a user typed).
pub(crate) fn without_userinfo(url: &str) -> String {
    let Some(start) = url.find("://").map(|i| i + 3) else {
        return url.to_string();
    };
    let rest = &url[start..];
    let end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    match rest[..end].rfind('@') {
        Some(at) => format!("{}{}", &url[..start], &rest[at + 1..]),
        None => url.to_string(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn matcher(http: &str, https: &str, no: &str) -> Matcher {
        Matcher::builder().http(http).https(https).no(no).build()
    }

    fn url(s: &str) -> reqwest::Url {
        reqwest::Url::parse(s).unwrap()
    }

    #[test]
    fn loopback_is_direct_unless_asked() {
        let m = matcher("http://proxy.example:3128", "http://proxy.example:3128", "");
        for gw in [
            "http://127.0.0.1:8787/v1",
            "http://127.8.9.10/v1",
            "http://[::1]:8787/v1",
            "http://localhost:1/v1",
            "https://api.localhost/v1",
        ] {
            assert_eq!(
                route(&url(gw), true, false, &m).unwrap(),
                Route::Direct,
                "{gw}"
            );
        }
        // Asked for: the proxy applies, and it is remote while the gateway is
        // plain http with a key: refused.
        let e = route(&url("http://127.0.0.1:8787/v1"), true, true, &m).unwrap_err();
        assert!(matches!(e, GatewayError::CleartextProxy { .. }), "{e}");
        // Without a key to guard, or through a loopback proxy, it is used.
        let local = matcher("http://127.0.0.1:3128", "", "");
        let r = route(&url("http://127.0.0.1:8787/v1"), true, true, &local).unwrap();
        assert_eq!(r, Route::Environment);
        let r = route(&url("http://127.0.0.1:8787/v1"), false, true, &m).unwrap();
        assert_eq!(r, Route::Environment);
    }

    #[test]
    fn https_gateways_tunnel_through_any_proxy() {
        let m = matcher("http://proxy.example:3128", "http://proxy.example:3128", "");
        let r = route(&url("https://ai-gateway.vercel.sh/v1"), true, false, &m).unwrap();
        assert_eq!(r, Route::Environment);
    }

    #[test]
    fn plain_http_through_a_remote_proxy_is_refused_naming_it_without_credentials() {
        let m = matcher("http://bob:hunter2@proxy.example:3128", "", "");
        let e = route(&url("http://gw.internal/v1"), true, false, &m)
            .unwrap_err()
            .to_string();
        assert!(
            e.contains("http://proxy.example:3128") && e.contains("cleartext"),
            "{e}"
        );
        assert!(!e.contains("hunter2") && !e.contains("bob"), "{e}");
        // NO_PROXY exempts the host: no proxy, nothing to refuse.
        let m = matcher("http://proxy.example:3128", "", "gw.internal");
        let r = route(&url("http://gw.internal/v1"), true, false, &m).unwrap();
        assert_eq!(r, Route::Environment);
        // --allow-insecure-http: the user accepted cleartext.
        let m = matcher("http://proxy.example:3128", "", "");
        let r = route(&url("http://gw.internal/v1"), false, false, &m).unwrap();
        assert_eq!(r, Route::Environment);
    }

    #[test]
    fn userinfo_is_cut_from_printed_urls() {
        assert_eq!(
            without_userinfo("http://user:sk-1@127.0.0.1:8/v1?a=b@c"),
            "http://127.0.0.1:8/v1?a=b@c"
        );
        assert_eq!(without_userinfo("https://a@b@host/v1"), "https://host/v1");
        assert_eq!(without_userinfo("https://host/v1"), "https://host/v1");
        assert_eq!(without_userinfo("not a url @ all"), "not a url @ all");
    }
}
