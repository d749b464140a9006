//! `evalgate validate`: load and check suites without sending anything.

use crate::cli::ValidateArgs;
use crate::exit;

pub fn run(args: &ValidateArgs) -> i32 {
    let mut code = exit::OK;
    for path in &args.suites {
        match crate::suite::load(path) {
            Ok(suite) => {
                let checks: usize = suite.cases.iter().map(|c| c.checks.len()).sum();
                println!(
                    "ok: {} — suite `{}`, {} cases, {} checks, {} models",
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
