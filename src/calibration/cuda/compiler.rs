//! Compiling the kernel sources with NVRTC, to CUBIN for one architecture, with ptxas's
//! resource report: needs NVRTC and the toolkit's headers, not a GPU.

use std::ffi::CString;
use std::path::{Path, PathBuf};

use cudarc::nvrtc::result as nvrtc;

use super::common::{CudaError, contained, drv, nvrtc_present};
use crate::calibration::kernels::{KERNELS, Resources, parse_ptxas_log, source_hash};

/// Folders that may hold the toolkit's headers (mma.h, cuda_bf16.h), which NVRTC needs for
/// the WMMA kernel: `$CUDA_HOME`, `$CUDA_PATH`, `/usr/local/cuda`, and the toolkit of the
/// `nvcc` on `PATH`; those that exist.
pub fn include_dirs() -> Vec<PathBuf> {
    let mut roots: Vec<PathBuf> = ["CUDA_HOME", "CUDA_PATH"]
        .iter()
        .filter_map(|v| std::env::var_os(v).map(PathBuf::from))
        .collect();
    roots.push(PathBuf::from("/usr/local/cuda"));
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            if dir.join("nvcc").is_file()
                && let Some(root) = dir.parent()
            {
                roots.push(root.to_path_buf());
            }
        }
    }
    let mut out: Vec<PathBuf> = Vec::new();
    for inc in roots.into_iter().map(|r| r.join("include")) {
        if inc.is_dir() && !out.contains(&inc) {
            out.push(inc);
        }
    }
    out
}

/// One kernel source, compiled.
#[derive(Debug)]
pub struct Compiled {
    /// The file in `kernels/`.
    pub file: &'static str,
    /// SHA-256 of the source.
    pub hash: String,
    /// The machine code (CUBIN) for the architecture asked for.
    pub cubin: Vec<u8>,
    /// The compiler's report of each entry point.
    pub resources: Vec<Resources>,
}

/// NVRTC's version, `major.minor`.
pub fn nvrtc_version() -> Result<String, CudaError> {
    contained(|| {
        nvrtc_present()?;
        let (mut major, mut minor) = (0, 0);
        // SAFETY: writes two ints.
        unsafe { cudarc::nvrtc::sys::nvrtcVersion(&mut major, &mut minor) }
            .result()
            .map_err(drv)?;
        Ok(format!("{major}.{minor}"))
    })
}

/// Compiles every kernel source of `kernels` (the folder of the `.cu` files) for `arch`
/// (`sm_90`) with NVRTC, with the compiler's resource report. Needs NVRTC, not a GPU.
///
/// # Errors
/// NVRTC missing, a source that cannot be read, or a compile error (with NVRTC's log).
pub fn compile(kernels: &Path, arch: &str) -> Result<Vec<Compiled>, CudaError> {
    contained(|| {
        nvrtc_present()?;
        let includes = include_dirs();
        let mut out = Vec::new();
        for (file, _) in KERNELS {
            let path = kernels.join(file);
            let src = std::fs::read_to_string(&path).map_err(|e| {
                CudaError::Input(format!(
                    "{}: {e}; give --kernels DIR, the folder of the calibration's .cu files",
                    path.display()
                ))
            })?;
            let bad = |message: String| CudaError::Compile {
                kernel: file.to_string(),
                message,
            };
            let csrc = CString::new(src.as_str()).map_err(|e| bad(e.to_string()))?;
            let name = CString::new(file).map_err(|e| bad(e.to_string()))?;
            let prog = nvrtc::create_program(&csrc, Some(&name)).map_err(|e| bad(e.to_string()))?;
            let mut opts = vec![
                format!("--gpu-architecture={arch}"),
                "--std=c++17".to_string(),
                "-Xptxas=-v".to_string(),
            ];
            opts.extend(
                includes
                    .iter()
                    .map(|d| format!("--include-path={}", d.display())),
            );
            // SAFETY: `prog` was created above and is destroyed once, below.
            let compiled = unsafe { nvrtc::compile_program(prog, &opts) };
            // SAFETY: as above.
            let log = unsafe { nvrtc::get_program_log(prog) }
                .map(|l| {
                    let bytes: Vec<u8> =
                        l.iter().map(|&c| c as u8).take_while(|&b| b != 0).collect();
                    String::from_utf8_lossy(&bytes).into_owned()
                })
                .unwrap_or_default();
            let cubin = compiled.map_err(|e| e.to_string()).and_then(|()| {
                let mut size = 0usize;
                // SAFETY: as above; the buffer holds `size` bytes.
                unsafe {
                    cudarc::nvrtc::sys::nvrtcGetCUBINSize(prog, &mut size)
                        .result()
                        .map_err(|e| e.to_string())?;
                    let mut buf = vec![0u8; size];
                    cudarc::nvrtc::sys::nvrtcGetCUBIN(prog, buf.as_mut_ptr().cast())
                        .result()
                        .map_err(|e| e.to_string())?;
                    Ok(buf)
                }
            });
            // SAFETY: as above; not used after this.
            let _ = unsafe { nvrtc::destroy_program(prog) };
            if log.contains("--gpu-architecture") {
                return Err(CudaError::Input(format!(
                    "NVRTC cannot compile for the architecture `{arch}` (give one such as \
                     sm_80, sm_86, sm_89, sm_90): {}",
                    log.trim()
                )));
            }
            let cubin = cubin.map_err(|e| {
                let hint = if log.contains("could not open source file") {
                    let looked = if includes.is_empty() {
                        "none of $CUDA_HOME, $CUDA_PATH, /usr/local/cuda or the toolkit of an \
                         nvcc on PATH has an include/ folder"
                            .to_string()
                    } else {
                        format!(
                            "looked in {}",
                            includes
                                .iter()
                                .map(|d| d.display().to_string())
                                .collect::<Vec<_>>()
                                .join(", ")
                        )
                    };
                    format!(
                        "\nNVRTC needs the CUDA toolkit's headers: set CUDA_HOME to the toolkit \
                         (its include/ holds mma.h), or run kernels/nvrtc.sh; {looked}"
                    )
                } else {
                    String::new()
                };
                bad(format!("{e}\n{}{hint}", log.trim_end()))
            })?;
            out.push(Compiled {
                file,
                hash: source_hash(&src),
                cubin,
                resources: parse_ptxas_log(&log),
            });
        }
        Ok(out)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::calibration::kernels::ARCHS;

    /// With NVRTC present (CI installs it; see kernels/nvrtc.sh), every kernel compiles for
    /// the architectures of the catalogue without local memory. `DEPINSIM_REQUIRE_NVRTC=1`
    /// makes a missing NVRTC a failure instead of a skip.
    #[test]
    fn kernels_compile_without_local_memory_where_nvrtc_is() {
        let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("kernels");
        let required = std::env::var_os("DEPINSIM_REQUIRE_NVRTC").is_some_and(|v| v == "1");
        for arch in ARCHS {
            match compile(&dir, arch) {
                Err(CudaError::Unavailable(why)) if !required => {
                    eprintln!("skipped: {why}");
                    return;
                }
                Err(e) => panic!("{arch}: {e}"),
                Ok(compiled) => {
                    let defined: usize = KERNELS.iter().map(|(_, f)| f.len()).sum();
                    let reported: Vec<&Resources> =
                        compiled.iter().flat_map(|c| &c.resources).collect();
                    assert_eq!(reported.len(), defined, "{arch}: {reported:?}");
                    for r in reported {
                        assert_eq!(r.arch, arch);
                        assert!(!r.uses_local_memory(), "{arch}: {r:?}");
                        assert!(r.registers > 0 && r.registers <= 255, "{r:?}");
                    }
                    assert!(compiled.iter().all(|c| !c.cubin.is_empty()));
                }
            }
        }
    }
}
