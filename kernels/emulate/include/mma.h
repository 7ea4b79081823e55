// Stand-in for the toolkit's mma.h (WMMA) under the CPU emulation (cuda_emu.hpp). The
// layout of a fragment across a warp's lanes is unspecified by the API, so here every lane
// holds the whole tile: loads and products are done by each lane, stores by lane 0 alone.
// Semantics follow the CUDA C++ Programming Guide's description of load_matrix_sync,
// mma_sync and store_matrix_sync.
#pragma once
#include <type_traits>

#include "cuda_bf16.h"

namespace nvcuda::wmma {
struct matrix_a {};
struct matrix_b {};
struct accumulator {};
struct row_major {};
struct col_major {};
enum layout_t { mem_row_major, mem_col_major };

template <class Use, int M, int N, int K>
struct shape;
template <int M, int N, int K>
struct shape<matrix_a, M, N, K> {
    static constexpr int rows = M, cols = K;
};
template <int M, int N, int K>
struct shape<matrix_b, M, N, K> {
    static constexpr int rows = K, cols = N;
};
template <int M, int N, int K>
struct shape<accumulator, M, N, K> {
    static constexpr int rows = M, cols = N;
};

template <class Use, int M, int N, int K, class T, class Layout = void>
struct fragment {
    static constexpr int rows = shape<Use, M, N, K>::rows, cols = shape<Use, M, N, K>::cols;
    float x[rows * cols];
    float& at(int i, int j) { return x[i * cols + j]; }
    float at(int i, int j) const { return x[i * cols + j]; }
};

inline float widen(float v) { return v; }
inline float widen(__nv_bfloat16 v) { return __bfloat162float(v); }

template <class Use, int M, int N, int K, class T, class L>
void fill_fragment(fragment<Use, M, N, K, T, L>& f, float v) {
    for (float& e : f.x) e = v;
}

template <class Use, int M, int N, int K, class T, class L, class P>
void load_matrix_sync(fragment<Use, M, N, K, T, L>& f, const P* p, unsigned ldm) {
    static_assert(sizeof(P) == sizeof(T), "pointer and fragment element types differ");
    using F = fragment<Use, M, N, K, T, L>;
    for (int i = 0; i < F::rows; ++i)
        for (int j = 0; j < F::cols; ++j)
            f.at(i, j) = widen(std::is_same_v<L, col_major> ? p[j * ldm + i] : p[i * ldm + j]);
}

template <int M, int N, int K, class TA, class LA, class TB, class LB>
void mma_sync(fragment<accumulator, M, N, K, float>& d,
              const fragment<matrix_a, M, N, K, TA, LA>& a,
              const fragment<matrix_b, M, N, K, TB, LB>& b,
              const fragment<accumulator, M, N, K, float>& c) {
    fragment<accumulator, M, N, K, float> r;
    for (int i = 0; i < M; ++i)
        for (int j = 0; j < N; ++j) {
            float s = c.at(i, j);
            for (int k = 0; k < K; ++k) s += a.at(i, k) * b.at(k, j);
            r.at(i, j) = s;
        }
    d = r;
}

template <int M, int N, int K>
void store_matrix_sync(float* p, const fragment<accumulator, M, N, K, float>& f, unsigned ldm,
                       layout_t layout) {
    if (emu::lane() != 0) return;
    for (int i = 0; i < M; ++i)
        for (int j = 0; j < N; ++j)
            (layout == mem_col_major ? p[j * ldm + i] : p[i * ldm + j]) = f.at(i, j);
}
}  // namespace nvcuda::wmma
