#pragma once
// FpEnvGuard: the floating-point environment certconv's arithmetic assumes, for
// the duration of one call from outside. Every entry point (the CLI's main, the
// library functions a user calls, each function of the Python module) opens one
// as its first statement.
//
// A host may have changed its thread's environment: PyTorch's
// torch.set_flush_denormal(True) sets FTZ and DAZ in MXCSR, a caller may have
// left FE_UPWARD on or enabled traps. Under any of these, exact products, the
// round-up helpers of core/format.hpp and every emulated order would silently
// compute something else. The guard saves the caller's whole environment, sets
// the default one (round-to-nearest, every exception masked, flags clear; on
// x86-64 also FTZ and DAZ off) and restores the caller's on destruction, also
// when an exception propagates. The exception flags our own work raised are
// dropped with it: inexact and underflow are routine here, not news for the
// caller.
//
// Threads: a new thread starts with its creator's environment (POSIX
// pthread_create, so std::jthread), and core/parallel.hpp creates its workers
// per call, after the guard is in place. Persistent pools that a real library
// (oneDNN's OpenMP, OpenBLAS) created earlier keep the environment they were
// created with; those are the observed backends, outside certconv's control.
#include <cfenv>

namespace certconv {

class FpEnvGuard {
 public:
  FpEnvGuard();
  ~FpEnvGuard();
  FpEnvGuard(const FpEnvGuard&) = delete;
  FpEnvGuard& operator=(const FpEnvGuard&) = delete;

 private:
  std::fenv_t saved_;
#if defined(__x86_64__)
  unsigned saved_mxcsr_;
#endif
};

}  // namespace certconv
