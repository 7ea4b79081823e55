//! `depinsim calibrate`: measure (or look up) what a device achieves, check it, write the
//! profile and print its table; or, with `--compile-only`, compile the CUDA kernels and print
//! the compiler's report.

use std::path::PathBuf;
use std::process::ExitCode;

use anyhow::{Context, Result};
use depinsim::calibration::{Profile, Source, cpu};
use depinsim::cli::{Backend, CalibrateArgs, GridSize};
use depinsim::export;
use depinsim::physics::gpu::{GpuClass, class_ids, find_class};
use depinsim::report;

use super::Usage;

/// Makes the profile `a` asks for, writes it (refusing to replace a file without
/// `--force`) and prints it.
pub(super) fn calibrate(a: CalibrateArgs) -> Result<ExitCode> {
    if a.compile_only {
        if a.backend != Backend::Cuda {
            return Err(Usage("--compile-only goes with --backend cuda".into()).into());
        }
        return compile_kernels(&a);
    }
    let profile = match a.backend {
        Backend::Datasheet => Profile::datasheet(class(&a)?),
        Backend::Derived => derived(&a)?,
        Backend::Cpu => {
            let grid = match a.grid {
                GridSize::Small => cpu::Grid::small(),
                GridSize::Full => cpu::Grid::full(),
            };
            cpu::calibrate(&grid, 1).context("a CPU kernel failed its correctness check")?
        }
        Backend::Cuda => cuda_profile(&a)?,
    };
    let backend = format!("{:?}", a.backend).to_lowercase();
    let path = a.out.unwrap_or_else(|| {
        PathBuf::from("output/calibration").join(format!("{}-{backend}.yaml", profile.class))
    });
    export::profile::write(&profile, &path, a.force)?;
    out!("{}", report::calibration::profile(&profile));
    out!("wrote {}", path.display());
    Ok(ExitCode::SUCCESS)
}

/// The GPU class of `--class`, which the backend needs.
fn class(a: &CalibrateArgs) -> Result<&'static GpuClass> {
    let Some(id) = a.class.as_deref() else {
        return Err(Usage(format!(
            "--backend {} needs --class (one of: {})",
            format!("{:?}", a.backend).to_lowercase(),
            class_ids()
        ))
        .into());
    };
    find_class(id).ok_or_else(|| {
        Usage(format!(
            "--class: unknown GPU class `{id}` (use one of: {})",
            class_ids()
        ))
        .into()
    })
}

/// `--backend derived`: `--class`'s peaks at the efficiencies of the measured profile
/// `--from`.
fn derived(a: &CalibrateArgs) -> Result<Profile> {
    let target = class(a)?;
    let Some(from) = a.from.as_deref() else {
        return Err(Usage("--backend derived needs --from, a measured profile".into()).into());
    };
    let source = Profile::load(from).map_err(|e| Usage(e.to_string()))?;
    if source.source != Source::Measured {
        return Err(Usage(format!(
            "--from {}: derive from a measured profile, not a {:?} one",
            from.display(),
            source.source
        ))
        .into());
    }
    Ok(source.derive(target, &from.display().to_string()))
}

/// `--backend cuda` in a build without the `cuda` feature: say how to get one.
#[cfg(not(feature = "cuda"))]
fn no_cuda<T>() -> Result<T> {
    Err(Usage(
        "--backend cuda: this depinsim was built without the `cuda` feature; build it with \
         `cargo build --release --features cuda` (no CUDA toolkit needed to build) and run it \
         on a machine with an NVIDIA driver, or use --backend cpu"
            .into(),
    )
    .into())
}

#[cfg(not(feature = "cuda"))]
fn cuda_profile(_: &CalibrateArgs) -> Result<Profile> {
    no_cuda()
}

#[cfg(not(feature = "cuda"))]
fn compile_kernels(_: &CalibrateArgs) -> Result<ExitCode> {
    no_cuda()
}

/// `--compile-only`: every kernel for every `--arch`, with the compiler's report; exit 1 if
/// one uses local memory, 2 without NVRTC or the sources. Prints nothing until all compiled.
#[cfg(feature = "cuda")]
fn compile_kernels(a: &CalibrateArgs) -> Result<ExitCode> {
    use depinsim::calibration::cuda::{self, CudaError};
    let mut resources = Vec::new();
    for arch in &a.arch {
        let compiled = match cuda::compile(&a.kernels, arch) {
            Ok(c) => c,
            Err(CudaError::Unavailable(why) | CudaError::Input(why)) => {
                return Err(Usage(format!("--compile-only: {why}")).into());
            }
            Err(e) => return Err(anyhow::Error::new(e).context("compiling the CUDA kernels")),
        };
        resources.extend(compiled.into_iter().flat_map(|c| c.resources));
    }
    let table =
        report::calibration::resources(&resources, &cuda::nvrtc_version()?, &cuda::include_dirs());
    out!("{table}");
    let local = resources.iter().filter(|r| r.uses_local_memory()).count();
    if local > 0 {
        err!("{local} kernel(s) use local memory: their timings would include its traffic");
        return Ok(ExitCode::from(1));
    }
    Ok(ExitCode::SUCCESS)
}

/// `--backend cuda`: no driver or GPU is the user's setup (exit 2); a kernel that fails its
/// check is a failed run (exit 1).
#[cfg(feature = "cuda")]
fn cuda_profile(a: &CalibrateArgs) -> Result<Profile> {
    use depinsim::calibration::cuda::{self, CudaError};
    let grid = match a.grid {
        GridSize::Small => cuda::Grid::small(),
        GridSize::Full => cuda::Grid::full(),
    };
    match cuda::calibrate(&grid, &a.kernels, 1) {
        Ok(p) => Ok(p),
        Err(CudaError::Unavailable(why) | CudaError::Input(why)) => {
            Err(Usage(format!("--backend cuda: {why}")).into())
        }
        Err(e) => Err(anyhow::Error::new(e).context("CUDA calibration failed")),
    }
}
