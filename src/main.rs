//! The `evalgate` binary: parse arguments and hand over to the library.

use clap::Parser;

fn main() {
    let cli = match evalgate::cli::Cli::try_parse() {
        Ok(cli) => cli,
        Err(e) => {
            let code = if e.use_stderr() {
                evalgate::exit::USAGE
            } else {
                evalgate::exit::OK
            };
            let _ = e.print();
            std::process::exit(code);
        }
    };
    std::process::exit(evalgate::app::main_with(cli));
}
