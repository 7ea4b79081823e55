//! Copies: device to device with `copy_f4` (copy.cu), the achievable memory bandwidth; host
//! to device and back with the driver's copies from and to pageable host memory (weight
//! loading, checkpoints).

use cudarc::driver::{CudaFunction, CudaSlice, LaunchConfig, PushKernelArg};
use rand_xoshiro::Xoshiro256PlusPlus;

use super::check::random_f32;
use super::common::{CudaError, Grid, drv};
use super::device::{Device, point};
use crate::calibration::{Point, Profile};

/// The three copy curves at every size of the grid, each size on the same random data.
pub(super) fn measure(
    dev: &Device<'_>,
    grid: &Grid,
    rng: &mut Xoshiro256PlusPlus,
    p: &mut Profile,
) -> Result<(), CudaError> {
    let copy_f = dev.function("copy.cu", "copy_f4")?;
    for &bytes in &grid.copy_bytes {
        let host = random_f32(rng, bytes / 4, 1.0);
        p.copy.0.push(device(dev, &copy_f, &host, bytes)?);
        let (h2d, d2h) = host_device(dev, &host, bytes)?;
        p.host_to_device.0.push(h2d);
        p.device_to_host.0.push(d2h);
    }
    Ok(())
}

/// The kernel's copy of `host` on the device, checked element by element: bytes read and
/// written per second.
fn device(
    dev: &Device<'_>,
    copy_f: &CudaFunction,
    host: &[f32],
    bytes: usize,
) -> Result<Point, CudaError> {
    let n = host.len();
    let stream = &dev.stream;
    let src = stream.clone_htod(host).map_err(drv)?;
    let mut dst = stream.clone_htod(&vec![f32::NAN; n]).map_err(drv)?;
    let n4 = (n / 4) as u64;
    let cfg = LaunchConfig {
        grid_dim: (n4.div_ceil(256).min(65_535 * 8) as u32, 1, 1),
        block_dim: (256, 1, 1),
        shared_mem_bytes: 0,
    };
    let run = |dst: &mut CudaSlice<f32>| -> Result<(), CudaError> {
        let mut b = stream.launch_builder(copy_f);
        b.arg(&src).arg(dst).arg(&n4);
        // SAFETY: the arguments match the kernel's signature and buffer sizes.
        unsafe { b.launch(cfg) }.map(|_| ()).map_err(drv)
    };
    let copied = |back: &[f32]| match back.iter().zip(host).position(|(a, b)| a != b) {
        None => Ok(()),
        Some(i) => Err(CudaError::Check {
            kernel: "copy",
            size: bytes,
            what: format!("element {i} not copied"),
        }),
    };
    dev.checked((bytes, 2.0 * (n4 * 16) as f64), &mut dst, run, copied)
}

/// `host` to the device and back, each way timed, then checked unchanged: bytes per second
/// each way.
fn host_device(dev: &Device<'_>, host: &[f32], bytes: usize) -> Result<(Point, Point), CudaError> {
    let n = host.len();
    let stream = &dev.stream;
    let mut on_device = stream.alloc_zeros::<f32>(n).map_err(drv)?;
    let h2d = dev.time(|| stream.memcpy_htod(host, &mut on_device).map_err(drv))?;
    let mut out = vec![0.0f32; n];
    let d2h = dev.time(|| stream.memcpy_dtoh(&on_device, &mut out).map_err(drv))?;
    if out != host {
        return Err(CudaError::Check {
            kernel: "copy",
            size: bytes,
            what: "host to device and back changed the data".into(),
        });
    }
    let each_way = (n * 4) as f64;
    Ok((
        point(bytes, each_way, h2d, dev.reps),
        point(bytes, each_way, d2h, dev.reps),
    ))
}
