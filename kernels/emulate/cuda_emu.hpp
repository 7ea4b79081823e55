// A CPU emulation of the CUDA features the kernels in kernels/ use, so that the same .cu
// sources run here, without a GPU, against double-precision references (check.cpp).
//
// Each CUDA thread of a block is a fiber (ucontext) on one OS thread, switched
// cooperatively at barriers: `__syncthreads` waits for the block's threads, warp shuffles
// exchange through a barrier of the warp's 32 threads, so barriers, reductions and lane
// arithmetic behave as on the device, and the schedule is the same on every run. Blocks run
// one after another, so `__shared__` variables are plain statics (one copy, shared by the
// block's threads). A thread that returns leaves its barriers and poisons its shuffle slot
// with NaN, so a shuffle that reads an exited lane shows up as a wrong result, not a hang.
//
// What this cannot tell: speed, memory coalescing, bank conflicts, or races that the
// hardware's scheduling would expose and this one does not. Those are for the device.
#pragma once

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstring>
#include <limits>
#include <memory>
#include <functional>
#include <ucontext.h>
#include <vector>

struct dim3 {
    unsigned x = 1, y = 1, z = 1;
};
struct alignas(8) uint2 {
    unsigned x, y;
};
struct alignas(16) uint4 {
    unsigned x, y, z, w;
};
struct alignas(16) float4 {
    float x, y, z, w;
};

#define __global__
#define __device__
#define __host__
#define __forceinline__ inline
#define __restrict__ __restrict
#define __shared__ static

inline dim3 threadIdx, blockIdx, blockDim, gridDim;

namespace emu {
// A barrier of `expected` fibers; `drop` takes a fiber out of it for good.
struct Barrier {
    unsigned expected = 0, arrived = 0;
    unsigned long phase = 0;
};

struct Fiber {
    ucontext_t ctx;
    std::vector<char> stack;
    dim3 idx;
    bool done = false;
};

inline std::vector<Fiber> fibers;
inline size_t current = 0;
inline ucontext_t scheduler;
inline std::function<void()> body;
inline Barrier block_bar;
inline std::vector<Barrier> warp_bars;
inline std::vector<float> slots;  // one shuffle slot per thread of the block

inline void yield() { swapcontext(&fibers[current].ctx, &scheduler); }

inline void release(Barrier& b) {
    b.arrived = 0;
    ++b.phase;
}
inline void wait(Barrier& b) {
    const unsigned long phase = b.phase;
    if (++b.arrived == b.expected) {
        release(b);
        return;
    }
    while (b.phase == phase) yield();
}
inline void drop(Barrier& b) {
    --b.expected;
    if (b.arrived > 0 && b.arrived == b.expected) release(b);
}

inline unsigned flat() { return threadIdx.x + blockDim.x * (threadIdx.y + blockDim.y * threadIdx.z); }
inline unsigned lane() { return flat() % 32u; }
inline Barrier& warp() { return warp_bars[flat() / 32u]; }
inline float& slot(unsigned lane_of_warp) { return slots[flat() / 32u * 32u + lane_of_warp]; }

inline void entry() {
    body();
    slot(lane()) = std::numeric_limits<float>::quiet_NaN();
    drop(warp());
    drop(block_bar);
    fibers[current].done = true;
    swapcontext(&fibers[current].ctx, &scheduler);
}
}  // namespace emu

inline void __syncthreads() { emu::wait(emu::block_bar); }
inline void __syncwarp(unsigned = 0xffffffffu) { emu::wait(emu::warp()); }

inline float __shfl_xor_sync(unsigned, float v, int mask) {
    const unsigned lane = emu::lane();
    emu::slot(lane) = v;
    emu::wait(emu::warp());
    const float r = emu::slot((lane ^ (unsigned)mask) % 32u);
    emu::wait(emu::warp());
    return r;
}

inline float __shfl_down_sync(unsigned, float v, unsigned delta) {
    const unsigned lane = emu::lane();
    emu::slot(lane) = v;
    emu::wait(emu::warp());
    const float r = lane + delta < 32 ? emu::slot(lane + delta) : v;
    emu::wait(emu::warp());
    return r;
}

inline float __uint_as_float(unsigned u) {
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}
inline float __int_as_float(int i) {
    float f;
    std::memcpy(&f, &i, 4);
    return f;
}
inline float __expf(float x) { return std::exp(x); }
inline float rsqrtf(float x) { return 1.0f / std::sqrt(x); }
inline int min(int a, int b) { return a < b ? a : b; }
inline int max(int a, int b) { return a > b ? a : b; }
using std::fmaxf;
using std::fminf;

namespace emu {
// Runs kernel(args...) over grid x block threads, one block at a time, each thread a fiber.
template <class... P, class... A>
void launch(dim3 grid, dim3 blk, void (*kernel)(P...), A... args) {
    const unsigned threads = blk.x * blk.y * blk.z;
    gridDim = grid;
    blockDim = blk;
    fibers.resize(threads);
    for (auto& f : fibers) f.stack.resize(256 * 1024);
    body = [&] { kernel(static_cast<P>(args)...); };
    for (unsigned bz = 0; bz < grid.z; ++bz)
        for (unsigned by = 0; by < grid.y; ++by)
            for (unsigned bx = 0; bx < grid.x; ++bx) {
                blockIdx = dim3{bx, by, bz};
                block_bar = Barrier{threads};
                warp_bars.assign((threads + 31) / 32, Barrier{});
                for (unsigned w = 0; w < warp_bars.size(); ++w)
                    warp_bars[w].expected = std::min(32u, threads - w * 32);
                slots.assign(warp_bars.size() * 32, 0.0f);
                for (unsigned t = 0; t < threads; ++t) {
                    Fiber& f = fibers[t];
                    f.idx = dim3{t % blk.x, t / blk.x % blk.y, t / (blk.x * blk.y)};
                    f.done = false;
                    getcontext(&f.ctx);
                    f.ctx.uc_stack.ss_sp = f.stack.data();
                    f.ctx.uc_stack.ss_size = f.stack.size();
                    f.ctx.uc_link = nullptr;
                    makecontext(&f.ctx, entry, 0);
                }
                for (unsigned left = threads; left > 0;) {
                    left = 0;
                    for (current = 0; current < threads; ++current) {
                        if (fibers[current].done) continue;
                        threadIdx = fibers[current].idx;
                        swapcontext(&scheduler, &fibers[current].ctx);
                        left += !fibers[current].done;
                    }
                }
            }
}
}  // namespace emu
