//! `evalgate sim`: serve the simulated gateway until Ctrl-C.

use crate::cli::SimArgs;
use crate::sim::{FaultRule, SimConfig};
use crate::usage;

pub async fn run(args: &SimArgs) -> anyhow::Result<i32> {
    // One socket per open stream: 1,000 streams exceed common soft limits.
    crate::cmd::common::raise_fd_limit();
    let required_key = match &args.require_key_env {
        Some(name) => Some(std::env::var(name).ok().filter(|v| !v.is_empty()).ok_or_else(|| {
            usage!("--require-key-env {name}: the variable {name} is not set; set it to the key clients must send")
        })?),
        None => None,
    };
    let faults = args
        .fault
        .iter()
        .map(|f| {
            f.parse::<FaultRule>()
                .map_err(|e| usage!("--fault {f}: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    let cfg = SimConfig {
        seed: args.seed,
        required_key,
        ttft_scale: args.ttft_scale,
        itl_scale: args.itl_scale,
        cost_scale: args.cost_scale,
        faults,
        generation_delay: args.generation_delay,
    };
    crate::sim::serve(cfg, args.addr)
        .await
        .map_err(|e| usage!("cannot serve on {}: {e}; choose another --addr", args.addr))?;
    Ok(crate::exit::OK)
}
