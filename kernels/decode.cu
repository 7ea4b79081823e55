// Decode: a matrix-vector product over bf16 weights for `B` vectors at once (B = 1, 2, 4,
// ..., 64; one kernel per batch, `gemv_bf16_b<B>`).
//
// Why it matters to the model: one decode step of an LLM multiplies every weight matrix by
// the batch's activation vectors; at small batches the step reads all the weights and does
// about one multiply-add per weight per vector, so it is memory-bound, and its rate (bytes of
// weights read per second) by batch is what the simulator's decode time uses. cuBLAS's
// product at the same shapes is timed beside it (`decode_library`); the time model takes the
// faster of the two at each batch, as a serving engine would.
//
// Contract: `w` is rows x cols bf16 (row-major, raw 16-bit words), `x` batch x cols fp32
// (row-major), `y` batch x rows fp32; cols is a multiple of 8 and the buffers 16-byte
// aligned. One warp per row: launch at least rows x 32 threads in blocks of a multiple of
// 32. Each lane reads 8 consecutive weights (16 bytes) at a time, UNROLL such loads in
// flight before it uses them, multiplies them with every vector of the batch (fp32
// accumulators in registers: the batch is a compile-time constant, so nothing spills to
// local memory), and the warp then sums its lanes.
//
// No toolkit headers: a bf16 word widens to fp32 exactly by a 16-bit shift.

__device__ __forceinline__ float bf16_lo(unsigned int pair) { return __uint_as_float(pair << 16); }
__device__ __forceinline__ float bf16_hi(unsigned int pair) {
    return __uint_as_float(pair & 0xffff0000u);
}

// acc[b] += the 8 weights in `p` times x[b][col .. col + 8].
template <int B>
__device__ __forceinline__ void fma8(float (&acc)[B], uint4 p, const float4* __restrict__ x,
                                     int cols, int col) {
    const float w0 = bf16_lo(p.x), w1 = bf16_hi(p.x), w2 = bf16_lo(p.y), w3 = bf16_hi(p.y);
    const float w4 = bf16_lo(p.z), w5 = bf16_hi(p.z), w6 = bf16_lo(p.w), w7 = bf16_hi(p.w);
#pragma unroll
    for (int b = 0; b < B; ++b) {
        const float4* xb = x + ((size_t)b * cols + col) / 4;
        const float4 a = xb[0], c = xb[1];
        acc[b] += w0 * a.x + w1 * a.y + w2 * a.z + w3 * a.w + w4 * c.x + w5 * c.y + w6 * c.z +
                  w7 * c.w;
    }
}

template <int B>
__device__ __forceinline__ void gemv(const uint4* __restrict__ w, const float4* __restrict__ x,
                                     float* __restrict__ y, int rows, int cols) {
    // Loads in flight per lane: more where the batch leaves registers free.
    constexpr int UNROLL = B <= 4 ? 4 : (B <= 16 ? 2 : 1);
    const int warp = (int)((blockIdx.x * (unsigned)blockDim.x + threadIdx.x) / 32u);
    const int lane = (int)(threadIdx.x % 32u);
    if (warp >= rows) return;
    const int chunks = cols / 8;
    const uint4* __restrict__ row = w + (size_t)warp * chunks;
    float acc[B];
#pragma unroll
    for (int b = 0; b < B; ++b) acc[b] = 0.0f;
    int c = lane;
    for (; c + 32 * (UNROLL - 1) < chunks; c += 32 * UNROLL) {
        uint4 p[UNROLL];
#pragma unroll
        for (int u = 0; u < UNROLL; ++u) p[u] = row[c + 32 * u];
#pragma unroll
        for (int u = 0; u < UNROLL; ++u) fma8<B>(acc, p[u], x, cols, (c + 32 * u) * 8);
    }
    for (; c < chunks; c += 32) fma8<B>(acc, row[c], x, cols, c * 8);
#pragma unroll
    for (int b = 0; b < B; ++b) {
        float s = acc[b];
#pragma unroll
        for (int off = 16; off > 0; off /= 2) s += __shfl_xor_sync(0xffffffffu, s, off);
        if (lane == 0) y[(size_t)b * rows + warp] = s;
    }
}

#define GEMV(B)                                                                              \
    extern "C" __global__ void gemv_bf16_b##B(const uint4* __restrict__ w,                   \
                                              const float4* __restrict__ x,                  \
                                              float* __restrict__ y, int rows, int cols) {   \
        gemv<B>(w, x, y, rows, cols);                                                        \
    }
GEMV(1)
GEMV(2)
GEMV(4)
GEMV(8)
GEMV(16)
GEMV(32)
GEMV(64)
