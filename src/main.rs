//! The `berth` command: parses arguments, runs the library, prints, exits.

mod cli;

/// Rendering a fleet allocates many small values on both cores; mimalloc
/// serves that faster than the system allocator.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() -> std::process::ExitCode {
    cli::main()
}
