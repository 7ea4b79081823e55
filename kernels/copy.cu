// Streaming copy: achievable memory bandwidth.
//
// Why it matters to the model: decode reads every weight once per step, so a GPU's decode
// speed is bounded by the bandwidth it actually reaches, not the datasheet's. This kernel
// moves `n` float4 (16-byte) elements from `src` to `dst` with a grid-stride loop; the rate
// reported is bytes read + bytes written per second.
extern "C" __global__ void copy_f4(const float4* __restrict__ src, float4* __restrict__ dst,
                                   unsigned long long n) {
    unsigned long long i = blockIdx.x * (unsigned long long)blockDim.x + threadIdx.x;
    unsigned long long stride = (unsigned long long)gridDim.x * blockDim.x;
    for (; i < n; i += stride) {
        dst[i] = src[i];
    }
}
