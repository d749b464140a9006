//! `evalgate validate`: load and check suites without sending anything;
//! every problem is listed with its file and line.

use crate::cli::ValidateArgs;
use crate::exit;

pub fn run(args: &ValidateArgs) -> i32 {
    let mut code = exit::OK;
    for path in &args.suites {
        let problems = match std::fs::read_to_string(path) {
            Ok(src) => crate::suite::errors(&src, path),
            Err(error) => vec![crate::suite::SuiteError::Read {
                path: path.clone(),
                error,
            }],
        };
        if !problems.is_empty() {
            for e in problems {
                eprintln!("error: {e}");
            }
            code = exit::USAGE;
            continue;
        }
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
