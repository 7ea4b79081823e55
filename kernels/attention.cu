// Attention over a KV cache: one query per head reads the head's keys and values.
//
// Why it matters to the model: besides the weights, each decode step reads every cached
// key and value of the request (the KV cache grows with the context), so long contexts add
// memory traffic the simulator charges at this kernel's rate (bytes of K and V read per
// second).
//
// One block per head: pass 1 computes the scores q.k_t / sqrt(d) for every position and
// their maximum; pass 2 the softmax normaliser and the weighted sum of values. K and V are
// seq x d bf16 per head, q and out d fp32 per head; d <= 256, seq <= 8192 (scores in shared
// memory).
#include <cuda_bf16.h>

extern "C" __global__ void kv_attention(const __nv_bfloat16* __restrict__ k,
                                        const __nv_bfloat16* __restrict__ v,
                                        const float* __restrict__ q, float* __restrict__ out,
                                        int seq, int d) {
    extern __shared__ float shared[];
    float* scores = shared;          // seq
    float* red = shared + seq;       // blockDim.x
    int h = blockIdx.x;
    const __nv_bfloat16* kh = k + (size_t)h * seq * d;
    const __nv_bfloat16* vh = v + (size_t)h * seq * d;
    const float* qh = q + (size_t)h * d;
    float scale = rsqrtf((float)d);
    float local_max = -3.0e38f;
    for (int t = threadIdx.x; t < seq; t += blockDim.x) {
        float s = 0.0f;
        for (int i = 0; i < d; ++i) s += qh[i] * __bfloat162float(kh[(size_t)t * d + i]);
        s *= scale;
        scores[t] = s;
        local_max = fmaxf(local_max, s);
    }
    red[threadIdx.x] = local_max;
    __syncthreads();
    for (int off = blockDim.x / 2; off > 0; off /= 2) {
        if (threadIdx.x < off) red[threadIdx.x] = fmaxf(red[threadIdx.x], red[threadIdx.x + off]);
        __syncthreads();
    }
    float m = red[0];
    __syncthreads();
    float local_sum = 0.0f;
    for (int t = threadIdx.x; t < seq; t += blockDim.x) {
        float e = __expf(scores[t] - m);
        scores[t] = e;
        local_sum += e;
    }
    red[threadIdx.x] = local_sum;
    __syncthreads();
    for (int off = blockDim.x / 2; off > 0; off /= 2) {
        if (threadIdx.x < off) red[threadIdx.x] += red[threadIdx.x + off];
        __syncthreads();
    }
    float inv = 1.0f / red[0];
    for (int i = threadIdx.x; i < d; i += blockDim.x) {
        float acc = 0.0f;
        for (int t = 0; t < seq; ++t) acc += scores[t] * __bfloat162float(vh[(size_t)t * d + i]);
        out[(size_t)h * d + i] = acc * inv;
    }
}
