// Attention over a KV cache: one decode query per (request, head) reads that head's cached
// keys and values.
//
// Why it matters to the model: besides the weights, each decode step reads every cached
// key and value of every request in the batch (the KV cache grows with the context), so
// long contexts add memory traffic that the simulator charges at this kernel's rate (bytes
// of K and V read per second, by cached positions).
//
// Split-K, as serving engines do it (flash-decoding): the positions of each (request, head)
// pair are cut into chunks, one block per (chunk, pair), so that even a few pairs fill the
// GPU. Each warp of a block keeps a running softmax (maximum, normaliser, weighted sum of
// values) over its positions; the block merges its warps and writes one partial result per
// chunk; `kv_combine` then merges the chunks of each pair.
//
// Contract: head dimension HEAD_DIM (128), each lane holding 4 of its elements. K and V are
// pairs x seq x HEAD_DIM bf16 (raw 16-bit words), q pairs x HEAD_DIM fp32, `part` pairs x
// chunks x (HEAD_DIM + 2) fp32 (the weighted sum, then the maximum and the normaliser),
// `out` pairs x HEAD_DIM fp32. kv_attention_split: grid (chunks, pairs), blocks of
// WARPS x 32 threads, chunks = ceil(seq / chunk) (so no chunk is empty). kv_combine: grid
// (pairs), blocks of HEAD_DIM threads. No toolkit headers.

#define HEAD_DIM 128
#define WARPS 4

__device__ __forceinline__ float bf16_lo(unsigned int pair) { return __uint_as_float(pair << 16); }
__device__ __forceinline__ float bf16_hi(unsigned int pair) {
    return __uint_as_float(pair & 0xffff0000u);
}

extern "C" __global__ void kv_attention_split(const uint2* __restrict__ k,
                                              const uint2* __restrict__ v,
                                              const float4* __restrict__ q,
                                              float* __restrict__ part, int seq, int chunk) {
    const int split = blockIdx.x, chunks = gridDim.x, pair = blockIdx.y;
    const int lane = threadIdx.x % 32, wid = threadIdx.x / 32;
    const float scale = rsqrtf((float)HEAD_DIM);
    float4 qv = q[(size_t)pair * (HEAD_DIM / 4) + lane];
    qv.x *= scale;
    qv.y *= scale;
    qv.z *= scale;
    qv.w *= scale;
    // Rows of HEAD_DIM bf16 are HEAD_DIM / 4 uint2 words; this lane's word of each row.
    const size_t base = (size_t)pair * seq * (HEAD_DIM / 4) + lane;
    const int t0 = split * chunk;
    const int t1 = min(seq, t0 + chunk);
    const float neg_inf = __int_as_float(0xff800000);
    float m = neg_inf, l = 0.0f, a0 = 0.0f, a1 = 0.0f, a2 = 0.0f, a3 = 0.0f;
    for (int t = t0 + wid; t < t1; t += WARPS) {
        const uint2 kk = k[base + (size_t)t * (HEAD_DIM / 4)];
        const uint2 vv = v[base + (size_t)t * (HEAD_DIM / 4)];
        float s = qv.x * bf16_lo(kk.x) + qv.y * bf16_hi(kk.x) + qv.z * bf16_lo(kk.y) +
                  qv.w * bf16_hi(kk.y);
#pragma unroll
        for (int off = 16; off > 0; off /= 2) s += __shfl_xor_sync(0xffffffffu, s, off);
        const float mn = fmaxf(m, s);
        const float c = __expf(m - mn);  // 0 on the first position (m = -inf)
        const float p = __expf(s - mn);
        l = l * c + p;
        a0 = a0 * c + p * bf16_lo(vv.x);
        a1 = a1 * c + p * bf16_hi(vv.x);
        a2 = a2 * c + p * bf16_lo(vv.y);
        a3 = a3 * c + p * bf16_hi(vv.y);
        m = mn;
    }
    __shared__ float wm[WARPS], wl[WARPS];
    __shared__ float wa[WARPS][HEAD_DIM];
    if (lane == 0) {
        wm[wid] = m;
        wl[wid] = l;
    }
    wa[wid][lane * 4 + 0] = a0;
    wa[wid][lane * 4 + 1] = a1;
    wa[wid][lane * 4 + 2] = a2;
    wa[wid][lane * 4 + 3] = a3;
    __syncthreads();
    // The chunk holds at least one position, so some warp has a finite maximum; a warp with
    // none has m = -inf and weighs 0.
    float mx = wm[0];
#pragma unroll
    for (int w = 1; w < WARPS; ++w) mx = fmaxf(mx, wm[w]);
    float* out = part + ((size_t)pair * chunks + split) * (HEAD_DIM + 2);
    for (int i = threadIdx.x; i < HEAD_DIM; i += blockDim.x) {
        float acc = 0.0f;
#pragma unroll
        for (int w = 0; w < WARPS; ++w) acc += __expf(wm[w] - mx) * wa[w][i];
        out[i] = acc;
    }
    if (threadIdx.x == 0) {
        float norm = 0.0f;
#pragma unroll
        for (int w = 0; w < WARPS; ++w) norm += __expf(wm[w] - mx) * wl[w];
        out[HEAD_DIM] = mx;
        out[HEAD_DIM + 1] = norm;
    }
}

extern "C" __global__ void kv_combine(const float* __restrict__ part, float* __restrict__ out,
                                      int chunks) {
    const int pair = blockIdx.x, i = threadIdx.x;
    if (i >= HEAD_DIM) return;
    const float* p = part + (size_t)pair * chunks * (HEAD_DIM + 2);
    float mx = p[HEAD_DIM];
    for (int s = 1; s < chunks; ++s) mx = fmaxf(mx, p[(size_t)s * (HEAD_DIM + 2) + HEAD_DIM]);
    float acc = 0.0f, norm = 0.0f;
    for (int s = 0; s < chunks; ++s) {
        const float* ps = p + (size_t)s * (HEAD_DIM + 2);
        const float w = __expf(ps[HEAD_DIM] - mx);
        acc += w * ps[i];
        norm += w * ps[HEAD_DIM + 1];
    }
    out[(size_t)pair * HEAD_DIM + i] = acc / norm;
}
