// Copyright 2026 The coral Authors.
//
// FuzzInput: reads a fuzzer's input as a sequence of small numbers, for the operation-sequence
// fuzzers (an operation code, then its arguments). Past the end it reads zeros, so every input is
// a valid program; callers loop while !done().

#ifndef CORAL_TESTS_FUZZ_FUZZ_INPUT_H_
#define CORAL_TESTS_FUZZ_FUZZ_INPUT_H_

#include <cstddef>
#include <cstdint>

namespace coral::fuzz {

class FuzzInput {
 public:
  FuzzInput(const uint8_t* data, size_t size) : data_(data), size_(size) {}

  bool done() const { return position_ >= size_; }

  // The next byte, or 0 past the end.
  uint8_t Byte() { return done() ? 0 : data_[position_++]; }

  // A number in [0, bound) from the next byte (bound <= 256).
  uint32_t Below(uint32_t bound) { return Byte() % bound; }

 private:
  const uint8_t* data_;
  size_t size_;
  size_t position_ = 0;
};

}  // namespace coral::fuzz

#endif  // CORAL_TESTS_FUZZ_FUZZ_INPUT_H_
