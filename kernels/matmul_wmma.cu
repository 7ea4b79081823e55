// Matrix product on the tensor cores (WMMA, bf16 inputs, fp32 accumulation).
//
// Why it matters to the model: prefill and training are compute-bound matrix products; the
// FLOP/s a GPU reaches at a given size is what the simulator's prefill and training step
// times use. This plain WMMA kernel (one warp per 16x16 tile of C, no shared-memory tiling)
// shows what a simple tensor-core kernel reaches; the vendor library's product (cuBLAS,
// timed beside it) is the reference for achievable FLOP/s.
//
// C (n x n, fp32) = A (n x n, bf16, row-major) x B (n x n, bf16, row-major); n is a
// multiple of 16.
#include <mma.h>
#include <cuda_bf16.h>
using namespace nvcuda;

extern "C" __global__ void matmul_wmma_bf16(const __nv_bfloat16* __restrict__ a,
                                            const __nv_bfloat16* __restrict__ b,
                                            float* __restrict__ c, int n) {
    int warp = (blockIdx.x * blockDim.x + threadIdx.x) / 32;
    int tiles = n / 16;
    if (warp >= tiles * tiles) return;
    int ti = warp / tiles, tj = warp % tiles;
    wmma::fragment<wmma::matrix_a, 16, 16, 16, __nv_bfloat16, wmma::row_major> fa;
    wmma::fragment<wmma::matrix_b, 16, 16, 16, __nv_bfloat16, wmma::row_major> fb;
    wmma::fragment<wmma::accumulator, 16, 16, 16, float> fc;
    wmma::fill_fragment(fc, 0.0f);
    for (int k = 0; k < n; k += 16) {
        wmma::load_matrix_sync(fa, a + (size_t)ti * 16 * n + k, n);
        wmma::load_matrix_sync(fb, b + (size_t)k * n + tj * 16, n);
        wmma::mma_sync(fc, fa, fb, fc);
    }
    wmma::store_matrix_sync(c + (size_t)ti * 16 * n + tj * 16, fc, n, wmma::mem_row_major);
}
