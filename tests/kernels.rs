//! The CUDA calibration kernels (kernels/*.cu), run without a GPU: compiled with the host's
//! C++ compiler under the CPU emulation of kernels/emulate/ and compared with
//! double-precision references on fresh random inputs (every output element written, no
//! write past an output's end, relative error within tolerance). See issue 5.

use std::path::Path;
use std::process::Command;
use std::time::{SystemTime, UNIX_EPOCH};

#[test]
fn every_kernel_matches_its_reference_under_emulation() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let emulate = root.join("kernels/emulate");
    let exe = Path::new(env!("CARGO_TARGET_TMPDIR")).join("kernel-check");
    let cxx = std::env::var("CXX").unwrap_or_else(|_| "g++".into());
    let built = Command::new(&cxx)
        .args(["-std=c++20", "-O1", "-Wall", "-Wno-unknown-pragmas", "-I"])
        .arg(emulate.join("include"))
        .arg(emulate.join("check.cpp"))
        .arg("-o")
        .arg(&exe)
        .output()
        .unwrap_or_else(|e| {
            panic!("{cxx} (a C++20 compiler, for the kernel emulation) did not start: {e}")
        });
    assert!(
        built.status.success(),
        "compiling the kernels under emulation failed:\n{}",
        String::from_utf8_lossy(&built.stderr)
    );
    // Fresh inputs on every run: the kernels must compute the same function on any input.
    // The seed is printed, so a failure can be repeated with `kernel-check SEED`.
    let seed = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .expect("clock after 1970")
        .as_nanos() as u64;
    let run = Command::new(&exe)
        .arg(seed.to_string())
        .output()
        .expect("run the kernel check");
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(run.status.success(), "seed {seed}:\n{stdout}");
    for kernel in [
        "copy_f4",
        "gemv_bf16_b1",
        "gemv_bf16_b8",
        "gemv_bf16_b64",
        "kv_attention",
        "matmul_wmma_bf16",
    ] {
        assert!(
            stdout
                .lines()
                .any(|l| l.starts_with("ok ") && l.contains(kernel)),
            "no passing check of {kernel}:\n{stdout}"
        );
    }
    assert!(stdout.contains("12 passed, 0 failed"), "{stdout}");
}
