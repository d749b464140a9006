//! Setup shared by the commands that talk to a gateway: base URL and key
//! resolution, with errors that say which variable to set.

use crate::cli::GatewayArgs;
use crate::gateway::{Gateway, GatewayConfig, RetryPolicy, Timeouts};
use crate::secret::ApiKey;

pub const DEFAULT_BASE_URL: &str = "https://ai-gateway.vercel.sh/v1";
pub const DEFAULT_KEY_ENV: &str = "AI_GATEWAY_API_KEY";
pub const OIDC_KEY_ENV: &str = "VERCEL_OIDC_TOKEN";
pub const BASE_URL_ENV: &str = "AI_GATEWAY_BASE_URL";

/// `--gateway`, else `$AI_GATEWAY_BASE_URL`, else the Vercel AI Gateway.
pub fn base_url(flag: Option<&str>) -> String {
    flag.map(str::to_string)
        .or_else(|| {
            std::env::var(BASE_URL_ENV)
                .ok()
                .filter(|s| !s.trim().is_empty())
        })
        .unwrap_or_else(|| DEFAULT_BASE_URL.to_string())
        .trim_end_matches('/')
        .to_string()
}

/// The key and the name of the variable it came from. An explicitly named
/// variable must be set; the default falls back to `VERCEL_OIDC_TOKEN` as
/// the gateway's own SDKs do. `offers_sim`: the command has a `--sim` flag
/// to suggest when there is no key.
pub fn resolve_key(
    explicit: Option<&str>,
    offers_sim: bool,
) -> Result<(ApiKey, String), anyhow::Error> {
    let read = |name: &str| std::env::var(name).ok().filter(|v| !v.trim().is_empty());
    let or_sim = if offers_sim {
        ", or use --sim to run against the built-in simulated gateway"
    } else {
        ""
    };
    match explicit {
        Some(name) => read(name)
            .map(|v| (ApiKey::new(v.trim()), name.to_string()))
            .ok_or_else(|| {
                crate::usage!(
                    "no API key: the environment variable {name} (chosen by --key-env or the suite's key_env) is not set; \
                     set it{or_sim}"
                )
            }),
        None => read(DEFAULT_KEY_ENV)
            .map(|v| (ApiKey::new(v.trim()), DEFAULT_KEY_ENV.to_string()))
            .or_else(|| read(OIDC_KEY_ENV).map(|v| (ApiKey::new(v.trim()), OIDC_KEY_ENV.to_string())))
            .ok_or_else(|| {
                crate::usage!(
                    "no API key: set {DEFAULT_KEY_ENV} (or {OIDC_KEY_ENV}, or name another variable with --key-env){or_sim}"
                )
            }),
    }
}

/// A gateway client for commands that send a single request or two, each
/// bounded by `timeout`.
pub fn simple_gateway(
    args: &GatewayArgs,
    key: Option<ApiKey>,
    timeout: std::time::Duration,
) -> anyhow::Result<Gateway> {
    Gateway::new(GatewayConfig {
        base_url: base_url(args.gateway.as_deref()),
        key,
        timeouts: Timeouts {
            fetch: timeout,
            ..Timeouts::default()
        },
        retry: RetryPolicy::default(),
        max_connections: 4,
        headers: Vec::new(),
        allow_insecure_http: args.allow_insecure_http,
        proxy_loopback: args.proxy_loopback,
        max_answer_bytes: crate::gateway::DEFAULT_MAX_ANSWER_BYTES,
    })
    .map_err(crate::exit::usage)
}

/// Raise the soft open-files limit to the hard limit: each in-flight stream
/// is one socket, and 1,000 concurrent streams exceed common soft limits.
pub fn raise_fd_limit() {
    #[cfg(unix)]
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) == 0 && lim.rlim_cur < lim.rlim_max {
            lim.rlim_cur = lim.rlim_max;
            libc::setrlimit(libc::RLIMIT_NOFILE, &lim);
        }
    }
}
