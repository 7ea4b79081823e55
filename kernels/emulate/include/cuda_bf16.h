// Stand-in for the toolkit's cuda_bf16.h under the CPU emulation (cuda_emu.hpp): a bf16 is
// its 16-bit word; it widens to float exactly.
#pragma once
#include <cstdint>
#include <cstring>

struct __nv_bfloat16 {
    std::uint16_t bits;
};
inline float __bfloat162float(__nv_bfloat16 h) {
    const std::uint32_t u = std::uint32_t(h.bits) << 16;
    float f;
    std::memcpy(&f, &u, 4);
    return f;
}
