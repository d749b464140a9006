//! `evalgate validate`: load and check suites without sending anything;
//! every problem is listed with its file and line.

use crate::cli::ValidateArgs;
use crate::exit;

pub fn run(args: &ValidateArgs) -> i32 {
    let mut code = exit::OK;
    let opts = crate::cli::load_options(args.max_image_mb);
    for path in &args.suites {
        let problems = match crate::suite::read(path) {
            Ok(src) => crate::suite::errors(&src, path, &opts),
            Err(e) => vec![e],
        };
        if !problems.is_empty() {
            for e in problems {
                eprintln!("error: {e}");
            }
            code = exit::USAGE;
            continue;
        }
        match crate::suite::load_with(path, &opts) {
            Ok(suite) => {
                let checks: usize = suite.cases.iter().map(|c| c.checks.len()).sum();
                let probe = Some(crate::record::CacheProbe::Probe);
                let probes = suite.cases.iter().filter(|c| c.probe == probe).count();
                let probes = match probes {
                    0 => String::new(),
                    n => format!(" ({n} of them cache probes)"),
                };
                println!(
                    "ok: {} — suite `{}`, {} cases{probes}, {} checks, {} models",
                    path.display(),
                    suite.name,
                    suite.cases.len(),
                    checks,
                    suite.models.len()
                );
            }
            Err(e) => {
                eprintln!("error: {e}");
                code = exit::USAGE;
            }
        }
    }
    code
}
