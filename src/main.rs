use std::process::ExitCode;

fn main() -> ExitCode {
    privdesk::cli::main()
}
