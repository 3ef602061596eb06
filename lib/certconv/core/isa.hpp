#pragma once
// One kernel, two instruction sets, the same bits.

namespace certconv {

// Runs f compiled for x86-64-v3 (AVX2 + FMA) when the CPU has it, else for the
// baseline ISA. Both give the same bits: IEEE operations in the same sequence
// (-ffp-contract=off; std::fma is correctly rounded in hardware and in software);
// only speed differs (std::fma becomes one instruction and vectorizes).
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
template <class F>
[[gnu::flatten, gnu::target("arch=x86-64-v3")]] void call_x86_64_v3(F& f) {
  f();
}
#endif
template <class F>
[[gnu::flatten]] void call_baseline(F& f) {
  f();
}
template <class F>
void dispatch_isa(F&& f) {
#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__)
  static const bool v3 = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
  if (v3) return call_x86_64_v3(f);
#endif
  call_baseline(f);
}

}  // namespace certconv
