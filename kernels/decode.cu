// Decode: a matrix-vector product over bf16 weights for `batch` vectors at once (1..64).
//
// Why it matters to the model: one decode step of an LLM multiplies every weight matrix by
// the batch's activation vectors; at small batches the step reads all the weights and does
// about one multiply-add per weight per vector, so it is memory-bound, and its rate (bytes of
// weights read per second) by batch is what the simulator's decode time uses.
//
// One warp per row: each lane reads 8 consecutive bf16 weights (16 bytes) at a time and
// multiplies them with every vector of the batch (fp32 accumulation); the warp then sums its
// lanes. `x` is batch x cols fp32 (row-major), `y` batch x rows fp32.
#include <cuda_bf16.h>

#define MAX_BATCH 64

extern "C" __global__ void gemv_bf16(const __nv_bfloat16* __restrict__ w,
                                     const float* __restrict__ x, float* __restrict__ y,
                                     int rows, int cols, int batch) {
    int warp = (blockIdx.x * blockDim.x + threadIdx.x) / 32;
    int lane = threadIdx.x % 32;
    if (warp >= rows) return;
    float acc[MAX_BATCH];
    for (int b = 0; b < batch; ++b) acc[b] = 0.0f;
    const uint4* row = reinterpret_cast<const uint4*>(w + (size_t)warp * cols);
    int chunks = cols / 8;  // cols is a multiple of 8
    for (int c = lane; c < chunks; c += 32) {
        uint4 packed = row[c];
        const __nv_bfloat16* v = reinterpret_cast<const __nv_bfloat16*>(&packed);
        for (int j = 0; j < 8; ++j) {
            float wj = __bfloat162float(v[j]);
            int col = c * 8 + j;
            for (int b = 0; b < batch; ++b) acc[b] += wj * x[(size_t)b * cols + col];
        }
    }
    for (int b = 0; b < batch; ++b) {
        float s = acc[b];
        for (int off = 16; off > 0; off /= 2) s += __shfl_down_sync(0xffffffff, s, off);
        if (lane == 0) y[(size_t)b * rows + warp] = s;
    }
}
