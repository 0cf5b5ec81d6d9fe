//! The `berth` binary: `berth daemon` serves the API; every other subcommand is
//! a docker-style client. See `berth::cli`.

fn main() -> std::process::ExitCode {
    berth::cli::main()
}
